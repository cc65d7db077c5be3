use rtmix_core::{At, Direction, Late};
use rtmix_host_tests::blocks::Blocks;
use rtmix_host_tests::model::expect;
use rtmix_host_tests::scenario::*;
use rtmix_host_tests::sim::simulate;
fn main() {
    let play = |at| Op::Play {
        samples: vec![],
        map: vec![0],
        gains: vec![1.0],
        at,
        late: Late::Drop,
    };
    let sc = Scenario {
        output_channels: 1,
        input_channels: 0,
        steps: vec![
            Step {
                submit_at: 0,
                ops: vec![play(At::Frame(539))],
            },
            Step {
                submit_at: 518,
                ops: vec![Op::Cancel {
                    target: 0,
                    at: At::Asap,
                    late: Late::Drop,
                }],
            },
            Step {
                submit_at: 539,
                ops: vec![play(At::Asap)],
            },
        ],
        xruns: vec![Xrun {
            at: 0,
            frames: 6,
            direction: Direction::Output,
        }],
        total_frames: 1179,
    };
    let o = simulate(&sc, &Blocks::Fixed(1));
    let e = expect(&sc, &o.runs, &o.submissions);
    println!("subs {:?}", o.submissions);
    for c in &o.completions {
        println!("GOT {:?}", c);
    }
    for c in e.completions.values() {
        println!("EXP {:?}", c);
    }
}
