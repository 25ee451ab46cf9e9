//! Observability commands: logctl, dmesg, metricsctl (alias metrics).

use core::fmt::Write;

use sis_observe::metrics::MetricFormat;
use sis_observe::{Format, Level};

use super::{CommandError, CommandResult, Invocation};
use crate::{log, metrics};

pub fn logctl(invocation: &mut Invocation<'_>) -> CommandResult {
    let control = log::logger().control();
    match invocation.args {
        [] => return Err(CommandError::Usage),
        [what] if what == "status" => {
            let _ = control.write_status(invocation.out);
            if let Some((held, overwritten)) = log::logger().ring_usage() {
                let _ = write!(invocation.out, " ring_records={held} ring_overwritten={overwritten}");
            }
            let _ = writeln!(invocation.out);
        }
        [format] if Format::parse(format).is_some() => {
            let format = Format::parse(format).expect("checked by the guard");
            control.set_format(format);
            // Logged after the switch, so it is the first record in the new format.
            crate::log_event!("log", "format", Info, format = format.as_str());
        }
        [what, level] if what == "level" => {
            let level = Level::parse(level).ok_or(CommandError::Usage)?;
            control.set_min_level(level);
            // Logged at INFO so it shows at any level up to INFO.
            crate::log_event!("log", "level", Info, level = level.as_str());
        }
        _ => return Err(CommandError::Usage),
    }
    Ok(())
}

pub fn dmesg(invocation: &mut Invocation<'_>) -> CommandResult {
    if !invocation.args.is_empty() {
        return Err(CommandError::Usage);
    }
    match log::logger().dmesg(invocation.out) {
        Some(_) => Ok(()),
        None => super::fail(sis_abi::Errno::EBUSY, "log ring busy"),
    }
}

pub fn metricsctl(invocation: &mut Invocation<'_>) -> CommandResult {
    let format = match invocation.args {
        [] => MetricFormat::Prometheus,
        [flag, name] if flag == "--format" => MetricFormat::parse(name).ok_or(CommandError::Usage)?,
        _ => return Err(CommandError::Usage),
    };
    let _ = metrics::write(invocation.out, format);
    if format == MetricFormat::Json || format == MetricFormat::Simple {
        let _ = writeln!(invocation.out);
    }
    Ok(())
}
