//! `stress`: the soak workload's control (feature `stress`; docs/SOAK.md).

use core::fmt::Write;

use sis_abi::Errno;

use super::{fail, parse_number, CommandError, CommandResult, Invocation};
use crate::stress::{self, Config, StartError, Workload, MAX_INTENSITY, MAX_LEAK_BYTES};

pub fn stress(invocation: &mut Invocation<'_>) -> CommandResult {
    match invocation.args {
        [what, rest @ ..] if what == "start" => {
            let mut config = Config { workload: Workload::Mixed, intensity: 10, leak_bytes: 0 };
            let mut words = rest.iter();
            while let Some(word) = words.next() {
                match word.as_str() {
                    "--intensity" => {
                        config.intensity = parse_number(words.next().ok_or(CommandError::Usage)?)?;
                        if config.intensity == 0 || config.intensity > MAX_INTENSITY {
                            return fail(Errno::EINVAL, alloc::format!("intensity must be 1-{MAX_INTENSITY}"));
                        }
                    }
                    "--leak" => {
                        config.leak_bytes = parse_number(words.next().ok_or(CommandError::Usage)?)?;
                        if config.leak_bytes > MAX_LEAK_BYTES {
                            return fail(Errno::EINVAL, alloc::format!("leak must be 0-{MAX_LEAK_BYTES} bytes"));
                        }
                    }
                    name => config.workload = Workload::parse(name).ok_or(CommandError::Usage)?,
                }
            }
            stress::start(config).or_else(|error| match error {
                StartError::AlreadyRunning => fail(Errno::EBUSY, "stress is already running (stress stop first)"),
                StartError::Stopping => fail(Errno::EBUSY, "stress is still stopping; try again"),
                StartError::NoStack => fail(Errno::ENOMEM, "no free task stack slot"),
            })?;
            let _ = writeln!(invocation.out, "stress started: {}", config.workload.name());
            Ok(())
        }
        [what] if what == "stop" => {
            let was_running = stress::stop();
            let _ = writeln!(invocation.out, "stress {}", if was_running { "stopped" } else { "was not running" });
            Ok(())
        }
        [what, json @ ..] if what == "status" && (json.is_empty() || (json.len() == 1 && json[0] == "--json")) => {
            let status = stress::status();
            let _ = writeln!(
                invocation.out,
                "{{\"running\":{},\"workload\":\"{}\",\"intensity\":{},\"leak_bytes\":{},\"iterations\":{},\"leaked_bytes\":{},\"errors\":{},\"children\":{}}}",
                status.is_running,
                status.config.workload.name(),
                status.config.intensity,
                status.config.leak_bytes,
                status.iterations,
                status.leaked_bytes,
                status.errors,
                status.children
            );
            Ok(())
        }
        _ => Err(CommandError::Usage),
    }
}
