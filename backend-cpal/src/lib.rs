//! rtmix on cpal (being built: see issue 5).
