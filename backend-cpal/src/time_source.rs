//! Which clock cpal's timestamps are, per host and, on ALSA, per PCM: the label every
//! anchor of a stream carries (`Anchor::source`, `Granted::time_source`).
//!
//! * JACK: the server's cycle start times (`jack_get_cycle_times`: `CLOCK_MONOTONIC`
//!   microseconds, smoothed by JACK's DLL from its driver's wake-ups), plus the ports'
//!   declared latencies: the host's clock, [`TimeSource::Host`]. cpal's `PulseAudio` and
//!   `PipeWire` hosts (not built by this crate) time the stream on the host's clock too.
//! * ALSA: the PCM's `htstamp`, which a `hw` PCM (and the plugins that pass its status
//!   through: `plug`, `linear`, `route`, `dmix`, ...) takes with the position it
//!   describes: [`TimeSource::Device`]. A PCM of an I/O plugin that reads the host's
//!   clock when asked, next to a position it last updated at its own pace (`jack`,
//!   `pulse`, `pipewire`, `oss`), or of `null` (the fixtures' `file` PCMs end in one) is
//!   [`TimeSource::Host`]; so is a plugin that gives no `htstamp` at all, which cpal times
//!   with `Instant::now()` (the `pulse` plugin). The PCM's type is read from alsa-lib's
//!   configuration (its `type`, following `slave.pcm` and aliases), not by opening it; a
//!   PCM whose definition cannot be followed that way (`cards.pcm.default` and the other
//!   card-specific definitions, which take arguments and functions) keeps `Device`, as
//!   cpal calls its timestamps.
//! * Every other host (`CoreAudio`, `WASAPI`, ...): the device's timestamps, `Device`.

use rtmix_core::TimeSource;

/// The clock behind cpal's timestamps for `device` on the host called `host`.
pub(crate) fn time_source(host: &str, device: &str) -> TimeSource {
    match host {
        "JACK" | "PulseAudio" | "PipeWire" => TimeSource::Host,
        #[cfg(target_os = "linux")]
        "ALSA" => alsa::config_text()
            .and_then(|text| pcm_source(&text, device))
            .unwrap_or(TimeSource::Device),
        _ => TimeSource::Device,
    }
}

/// What the ALSA PCM `name` (arguments after `:` ignored) gives, by the configuration as
/// `snd_config_save` writes it; `None` if it cannot be followed to a known type.
pub(crate) fn pcm_source(config: &str, name: &str) -> Option<TimeSource> {
    let tree = parse(config);
    let pcms = find(&tree, &["pcm"])?;
    by_name(pcms, name, 0)
}

/// Types whose timestamps are the host's clock read next to a position of their own.
const HOST_CLOCK_TYPES: [&str; 5] = ["jack", "pulse", "pipewire", "oss", "null"];

/// How deep aliases and slaves are followed.
const MAX_DEPTH: usize = 8;

fn by_name(pcms: &Node, name: &str, depth: usize) -> Option<TimeSource> {
    let base = name.split(':').next().unwrap_or(name);
    let node = find(&pcms.children, &[base])?;
    match &node.value {
        // `pcm.spdif iec958`: an alias of another PCM.
        Some(alias) if depth < MAX_DEPTH => by_name(pcms, alias, depth + 1),
        Some(_) => None,
        None => by_node(pcms, node, depth),
    }
}

fn by_node(pcms: &Node, node: &Node, depth: usize) -> Option<TimeSource> {
    if depth >= MAX_DEPTH {
        return None;
    }
    let kind = find(&node.children, &["type"])?.value.as_deref()?;
    if kind == "hw" {
        return Some(TimeSource::Device);
    }
    if HOST_CLOCK_TYPES.contains(&kind) {
        return Some(TimeSource::Host);
    }
    // A plugin over a slave: its status (and timestamp) is the slave's.
    let slave = find(&node.children, &["slave", "pcm"])?;
    match &slave.value {
        Some(name) => by_name(pcms, name, depth + 1),
        None => by_node(pcms, slave, depth + 1),
    }
}

/// One node of a saved configuration: `key value`, or `key { children }`.
#[derive(Debug, Default, PartialEq)]
struct Node {
    key: String,
    value: Option<String>,
    children: Vec<Node>,
}

/// The child reached by `path`, one key per level.
fn find<'a>(nodes: &'a [Node], path: &[&str]) -> Option<&'a Node> {
    let (first, rest) = path.split_first()?;
    let node = nodes.iter().find(|n| n.key == *first)?;
    if rest.is_empty() {
        Some(node)
    } else {
        find(&node.children, rest)
    }
}

/// Strips alsa-lib's quotes.
fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| s.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
        .unwrap_or(s)
}

/// Adds `node` under the dotted `key` (`slave.pcm` is `slave { pcm ... }`), merging with
/// compounds already there.
fn insert(nodes: &mut Vec<Node>, key: &str, node: Node) {
    if let Some((first, rest)) = key.split_once('.') {
        let i = if let Some(i) = nodes
            .iter()
            .position(|n| n.key == first && n.value.is_none())
        {
            i
        } else {
            nodes.push(Node {
                key: first.to_owned(),
                ..Node::default()
            });
            nodes.len() - 1
        };
        insert(&mut nodes[i].children, rest, node);
        return;
    }
    let node = Node {
        key: key.to_owned(),
        ..node
    };
    if let Some(existing) = nodes
        .iter_mut()
        .find(|n| n.key == key && n.value.is_none() && node.value.is_none())
    {
        existing.children.extend(node.children);
    } else {
        nodes.push(node);
    }
}

/// The tree of a configuration as `snd_config_save` writes it: one `key value`,
/// `key {` or `key [` per line, `}` or `]` closing (array items are `key`-less values).
fn parse(text: &str) -> Vec<Node> {
    // The open compounds: their dotted keys and the children so far.
    let mut stack: Vec<(String, Vec<Node>)> = vec![(String::new(), Vec::new())];
    for line in text.lines() {
        let body = line.trim();
        if body.is_empty() {
            continue;
        }
        if body == "}" || body == "]" {
            if stack.len() > 1 {
                let (key, children) = stack.pop().unwrap_or_default();
                if let Some((_, parent)) = stack.last_mut() {
                    insert(
                        parent,
                        &key,
                        Node {
                            children,
                            ..Node::default()
                        },
                    );
                }
            }
            continue;
        }
        let (key, value) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
        let value = value.trim();
        if value == "{" || value == "[" {
            stack.push((unquote(key).to_owned(), Vec::new()));
        } else if let Some((_, parent)) = stack.last_mut() {
            insert(
                parent,
                unquote(key),
                Node {
                    value: Some(unquote(value).to_owned()),
                    ..Node::default()
                },
            );
        }
    }
    stack.truncate(1);
    stack.pop().map(|(_, nodes)| nodes).unwrap_or_default()
}

#[cfg(target_os = "linux")]
mod alsa {
    /// alsa-lib's configuration (`ALSA_CONFIG_PATH` honoured) as `snd_config_save` writes
    /// it.
    pub(super) fn config_text() -> Option<String> {
        ::alsa::config::update().ok()?;
        let top = ::alsa::config::update_ref().ok()?;
        let mut out = ::alsa::Output::buffer_open().ok()?;
        top.save(&mut out).ok()?;
        Some(out.buffer_string(|b| String::from_utf8_lossy(b).into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An excerpt of what `snd_config_save` writes for alsa-lib's own definitions, the
    /// project's fixtures and the sound servers' plugins.
    const CONFIG: &str = "pcm.hw {\n\t@args.0 CARD\n\t@args.CARD {\n\t\ttype string\n\t}\n\ttype hw\n\tcard $CARD\n}\n\
pcm.plughw {\n\t@args.0 CARD\n\ttype plug\n\tslave.pcm {\n\t\ttype hw\n\t\tcard $CARD\n\t}\n}\n\
pcm.null {\n\ttype null\n\thint {\n\t\tdescription 'Discard all samples'\n\t}\n}\n\
pcm.default 'cards.pcm.default'\n\
pcm.spdif iec958\n\
pcm.rtmix_cpal_file {\n\ttype file\n\tslave.pcm null\n\tfile {\n\t\t@func getenv\n\t\tvars [\n\t\t\tRTMIX_CPAL_FILE\n\t\t]\n\t}\n}\n\
pcm.rtmix_plug_file {\n\ttype plug\n\tslave {\n\t\tpcm {\n\t\t\ttype file\n\t\t\tslave.pcm null\n\t\t}\n\t\tformat FLOAT_LE\n\t}\n}\n\
pcm.rtmix_jack {\n\ttype jack\n\tplayback_ports [\n\t\tloopback:playback_1\n\t]\n}\n\
pcm.pulse {\n\ttype pulse\n}\n\
pcm.pw {\n\ttype pipewire\n}\n\
pcm.mix {\n\ttype dmix\n\tslave.pcm 'hw:0'\n}\n\
pcm.to_jack rtmix_jack\n";

    #[test]
    fn alsa_pcms_are_labelled_by_their_configured_type() {
        let source = |name| pcm_source(CONFIG, name);
        // Timestamps the kernel takes with the position: hw, and plugins over it.
        assert_eq!(source("hw:CARD=PCH,DEV=0"), Some(TimeSource::Device));
        assert_eq!(source("plughw:0"), Some(TimeSource::Device));
        assert_eq!(source("mix"), Some(TimeSource::Device));
        // The host's clock: I/O plugins of sound servers, and null (through file, plug).
        assert_eq!(source("rtmix_jack"), Some(TimeSource::Host));
        assert_eq!(source("to_jack"), Some(TimeSource::Host));
        assert_eq!(source("pulse"), Some(TimeSource::Host));
        assert_eq!(source("pw"), Some(TimeSource::Host));
        assert_eq!(source("rtmix_cpal_file"), Some(TimeSource::Host));
        assert_eq!(source("rtmix_plug_file"), Some(TimeSource::Host));
        // Not followed: card definitions, unknown names.
        assert_eq!(source("default"), None);
        assert_eq!(source("spdif"), None);
        assert_eq!(source("nothing"), None);
    }

    #[test]
    fn hosts_are_labelled_by_what_their_timestamps_are() {
        assert_eq!(time_source("JACK", "output"), TimeSource::Host);
        assert_eq!(time_source("CoreAudio", "x"), TimeSource::Device);
        assert_eq!(time_source("WASAPI", "x"), TimeSource::Device);
    }
}
