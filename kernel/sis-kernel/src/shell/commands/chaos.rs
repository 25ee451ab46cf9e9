//! `chaos`: fault injection control (feature `chaos`; docs/CHAOS.md).

use core::fmt::Write;

use sis_chaos::{parse_delay_us, parse_rate, parse_seed, Mode};

use super::{CommandError, CommandResult, Invocation};

pub fn chaos(invocation: &mut Invocation<'_>) -> CommandResult {
    let chaos = crate::chaos::get();
    let invalid = |error: sis_chaos::ChaosError| CommandError::Errno(error.errno(), alloc::format!("{error}"));
    match invocation.args {
        [what, mode] if what == "mode" => {
            let mode = Mode::parse(mode).ok_or_else(|| invalid(sis_chaos::ChaosError::UnknownMode))?;
            chaos.set_mode(mode);
            crate::log_event!("chaos", "mode", Info, mode = mode.name());
        }
        [what, rate] if what == "rate" => {
            chaos.set_rate(parse_rate(rate).map_err(invalid)?).map_err(invalid)?;
        }
        [what, seed] if what == "seed" => chaos.set_seed(parse_seed(seed).map_err(invalid)?),
        [what, delay] if what == "delay" => chaos.set_delay_us(parse_delay_us(delay).map_err(invalid)?),
        [what] if what == "reset" => {
            chaos.reset();
            crate::chaos::set_defect(crate::chaos::Defect::None);
        }
        [what, defect] if what == "break" => {
            let defect = crate::chaos::Defect::parse(defect).ok_or(CommandError::Usage)?;
            crate::chaos::set_defect(defect);
            crate::log_event!("chaos", "break", Warn, defect = defect.name());
        }
        [what] if what == "stats" => {
            let _ = chaos.stats().write_text(invocation.out);
        }
        [what, flag] if what == "stats" && flag == "--json" => {
            let _ = chaos.stats().write_json(invocation.out);
            let _ = writeln!(invocation.out);
        }
        _ => return Err(CommandError::Usage),
    }
    Ok(())
}

