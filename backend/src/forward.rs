//! The impls of the traits that both backends write the same way: each trait method
//! forwards to the inherent function of the same name on the backend's own types, whose
//! API is the trait's. Written once here so that the two backends cannot drift apart.

/// Implements [`Backend`](crate::Backend) for `$backend`, and [`Device`](crate::Device)
/// for its three device types, by forwarding each method to the inherent function of the
/// same name: `open_output` to `$output::open`, `open_input` to `$input::open`,
/// `open_duplex` to `$duplex::open`, `play`, `record`, `duplex` and their `_handing_back`
/// forms to `$starts::…`, and `Device::granted` to each device's `granted` (the output's
/// half, for the duplex device).
///
/// For rtmix-alsa and rtmix-cpal only (hidden: not part of the interface); the calling
/// crate depends on `rtmix_core`, and every name it passes is in scope there.
#[doc(hidden)]
#[macro_export]
macro_rules! forward_backend {
    (
        $backend:ident {
            name: $name:expr,
            formats: $formats:expr,
            output: $output:ident,
            input: $input:ident,
            duplex: $duplex:ident,
            stream: $stream:ty,
            duplex_stream: $duplex_stream:ty,
            starts: $starts:ident $(,)?
        }
    ) => {
        impl $crate::Backend for $backend {
            const NAME: &'static str = $name;
            const FORMATS: &'static [$crate::SampleFormat] = $formats;

            type OutputDevice = $output;
            type InputDevice = $input;
            type DuplexDevice = $duplex;
            type Stream = $stream;
            type DuplexStream = $duplex_stream;

            fn open_output(config: &$crate::Config) -> Result<$output, $crate::Error> {
                $output::open(config)
            }

            fn open_input(config: &$crate::Config) -> Result<$input, $crate::Error> {
                $input::open(config)
            }

            fn open_duplex(
                output: &$crate::Config,
                input: &$crate::Config,
            ) -> Result<$duplex, $crate::Error> {
                $duplex::open(output, input)
            }

            fn play<P, H>(
                device: $output,
                engine: ::rtmix_core::OutputEngine<P, H>,
                control: $crate::RunControl,
            ) -> Result<$stream, $crate::Error>
            where
                P: ::rtmix_core::PlaySource + 'static,
                H: ::rtmix_core::Home + 'static,
                ::rtmix_core::OutputEngine<P, H>: Send,
            {
                $starts::play(device, engine, control)
            }

            fn record<R, H>(
                device: $input,
                engine: ::rtmix_core::InputEngine<R, H>,
                control: $crate::RunControl,
            ) -> Result<$stream, $crate::Error>
            where
                R: ::rtmix_core::RecordTarget + 'static,
                H: ::rtmix_core::Home + 'static,
                ::rtmix_core::InputEngine<R, H>: Send,
            {
                $starts::record(device, engine, control)
            }

            fn play_handing_back<P, H>(
                device: $output,
                engine: ::rtmix_core::OutputEngine<P, H>,
                control: $crate::RunControl,
            ) -> Result<$crate::Attached<$stream, ::rtmix_core::OutputEngine<P, H>>, $crate::Error>
            where
                P: ::rtmix_core::PlaySource + 'static,
                H: ::rtmix_core::Home + 'static,
                ::rtmix_core::OutputEngine<P, H>: Send,
            {
                $starts::play_handing_back(device, engine, control)
            }

            fn record_handing_back<R, H>(
                device: $input,
                engine: ::rtmix_core::InputEngine<R, H>,
                control: $crate::RunControl,
            ) -> Result<$crate::Attached<$stream, ::rtmix_core::InputEngine<R, H>>, $crate::Error>
            where
                R: ::rtmix_core::RecordTarget + 'static,
                H: ::rtmix_core::Home + 'static,
                ::rtmix_core::InputEngine<R, H>: Send,
            {
                $starts::record_handing_back(device, engine, control)
            }

            fn duplex<P, R, H>(
                device: $duplex,
                engine: ::rtmix_core::Engine<P, R, H>,
                control: $crate::RunControl,
            ) -> Result<$duplex_stream, $crate::Error>
            where
                P: ::rtmix_core::PlaySource + 'static,
                R: ::rtmix_core::RecordTarget + 'static,
                H: ::rtmix_core::Home + 'static,
                ::rtmix_core::OutputEngine<P, H>: Send,
                ::rtmix_core::InputEngine<R, H>: Send,
            {
                $starts::duplex(device, engine, control)
            }

            fn duplex_handing_back<P, R, H>(
                device: $duplex,
                engine: ::rtmix_core::Engine<P, R, H>,
                control: $crate::RunControl,
            ) -> Result<$crate::AttachedDuplex<$duplex_stream, P, R, H>, $crate::Error>
            where
                P: ::rtmix_core::PlaySource + 'static,
                R: ::rtmix_core::RecordTarget + 'static,
                H: ::rtmix_core::Home + 'static,
                ::rtmix_core::OutputEngine<P, H>: Send,
                ::rtmix_core::InputEngine<R, H>: Send,
            {
                $starts::duplex_handing_back(device, engine, control)
            }
        }

        impl $crate::Device for $output {
            fn granted(&self) -> &$crate::Granted {
                $output::granted(self)
            }
        }

        impl $crate::Device for $input {
            fn granted(&self) -> &$crate::Granted {
                $input::granted(self)
            }
        }

        impl $crate::Device for $duplex {
            fn granted(&self) -> &$crate::Granted {
                $duplex::granted(self).0
            }
        }
    };
}

/// Implements [`Stream`](crate::Stream) for `$stream` by forwarding each method to the
/// inherent function of the same name: `forward_stream!(S, Report)` for a stream `S` whose
/// report is `Report`, `forward_stream!(S<Report>)` for a stream generic over its report.
/// For the backends only, as [`forward_backend!`](crate::forward_backend) is.
#[doc(hidden)]
#[macro_export]
macro_rules! forward_stream {
    ($stream:ident, $report:ty) => {
        impl $crate::Stream for $stream {
            $crate::forward_stream!(@methods $stream, $report);
        }
    };
    ($stream:ident<$report:ident>) => {
        impl<$report: Send + 'static> $crate::Stream for $stream<$report> {
            $crate::forward_stream!(@methods $stream, $report);
        }
    };
    (@methods $stream:ident, $report:ty) => {
        type Report = $report;

        fn granted(&self) -> &$crate::Granted {
            $stream::granted(self)
        }

        fn clock(&self) -> ::std::sync::Arc<::rtmix_core::DeviceClock> {
            $stream::clock(self)
        }

        fn is_finished(&self) -> bool {
            $stream::is_finished(self)
        }

        fn stop(self) -> Result<$report, $crate::Error> {
            $stream::stop(self)
        }

        fn join(self) -> Result<$report, $crate::Error> {
            $stream::join(self)
        }
    };
}

/// Implements [`Duplex`](crate::Duplex) for the duplex stream `$stream` by forwarding
/// each method to the inherent function of the same name. For the backends only, as
/// [`forward_backend!`](crate::forward_backend) is.
#[doc(hidden)]
#[macro_export]
macro_rules! forward_duplex {
    ($stream:ty) => {
        impl $crate::Duplex for $stream {
            fn input_granted(&self) -> &$crate::Granted {
                <$stream>::input_granted(self)
            }

            fn input_clock(&self) -> ::std::sync::Arc<::rtmix_core::DeviceClock> {
                <$stream>::input_clock(self)
            }

            fn offset(&self) -> Option<$crate::Offset> {
                <$stream>::offset(self)
            }
        }
    };
}
