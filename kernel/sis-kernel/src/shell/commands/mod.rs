//! The command table and what runs a parsed line. Each command is a row:
//! name, usage, summary and the function; `help` prints the table.

extern crate alloc;

use alloc::string::String;
use core::fmt::Write;

use sis_abi::Errno;

use super::{Output, Shell, STATUS_UNKNOWN_COMMAND};

#[cfg(feature = "chaos")]
mod chaos;
mod fs;
mod network;
mod observe;
#[cfg(feature = "stress")]
mod stress;
mod system;
mod tasks;
mod user;
mod workload;

/// Why a command failed; the shell prints one `error:` line for it.
pub enum CommandError {
    /// `error: <ERRNO>: <detail>`, status = the errno's number.
    Errno(Errno, String),
    /// Wrong arguments: `error: EINVAL: usage: <usage>`.
    Usage,
    /// No error line, just this status (`run`: the program's exit status).
    Status(u8),
}

pub type CommandResult = Result<(), CommandError>;

/// Shorthand for an errno failure with a formatted detail.
pub fn fail(errno: Errno, detail: impl Into<String>) -> CommandResult {
    Err(CommandError::Errno(errno, detail.into()))
}

/// What a command gets: its arguments (without the name), where to print,
/// and the shell's state.
pub struct Invocation<'a> {
    pub args: &'a [String],
    pub out: &'a mut Output,
    pub shell: &'a mut Shell,
}

pub struct Command {
    pub name: &'static str,
    pub usage: &'static str,
    pub summary: &'static str,
    pub run: fn(&mut Invocation<'_>) -> CommandResult,
}

/// Every command, in the order `help` lists them.
pub static COMMANDS: &[Command] = &[
    Command { name: "help", usage: "help", summary: "list commands", run: help },
    Command { name: "echo", usage: "echo [text...]", summary: "print the arguments", run: system::echo },
    Command { name: "version", usage: "version [--json]", summary: "kernel build information", run: system::version },
    Command { name: "uptime", usage: "uptime", summary: "time since boot", run: system::uptime },
    Command { name: "memstats", usage: "memstats", summary: "memory and heap statistics", run: system::memstats },
    Command { name: "cpus", usage: "cpus", summary: "CPUs online, busy and idle time per CPU", run: system::cpus },
    Command { name: "ps", usage: "ps", summary: "list tasks", run: tasks::ps },
    Command { name: "sleep", usage: "sleep <ms>", summary: "sleep, letting other tasks run", run: tasks::sleep },
    Command { name: "spin", usage: "spin --tasks N --ms M [--background] [--yield]", summary: "run N busy tasks for M ms, print the work done (--yield: each unit is a yield)", run: tasks::spin },
    Command { name: "programs", usage: "programs", summary: "list the embedded user programs and their checked ELF segments", run: user::programs },
    Command { name: "run", usage: "run [--repeat N | --background] <program> [args...]", summary: "run a user program as a process and wait for it", run: user::run },
    Command { name: "kill", usage: "kill <pid>", summary: "end a user process (see ps)", run: user::kill },
    Command { name: "syscalls", usage: "syscalls [--json]", summary: "syscalls since boot by call and errno", run: user::syscalls },
    Command { name: "ls", usage: "ls [path]", summary: "list a directory", run: fs::ls },
    Command { name: "cat", usage: "cat <path>", summary: "print a file", run: fs::cat },
    Command { name: "touch", usage: "touch <path>", summary: "create an empty file", run: fs::touch },
    Command { name: "write", usage: "write <path> <text...>", summary: "write text to a file", run: fs::write },
    Command { name: "rm", usage: "rm <path>", summary: "remove a file", run: fs::rm },
    Command { name: "mkdir", usage: "mkdir <path>", summary: "make a directory", run: fs::mkdir },
    Command { name: "rmdir", usage: "rmdir <path>", summary: "remove an empty directory", run: fs::rmdir },
    Command { name: "cd", usage: "cd [path]", summary: "change directory", run: fs::cd },
    Command { name: "pwd", usage: "pwd", summary: "print the working directory", run: fs::pwd },
    Command { name: "logctl", usage: "logctl json|human|level <level>|status", summary: "log format and level", run: observe::logctl },
    Command { name: "dmesg", usage: "dmesg", summary: "replay recent log records", run: observe::dmesg },
    Command { name: "metricsctl", usage: "metricsctl [--format prometheus|json|simple|values]", summary: "export metrics", run: observe::metricsctl },
    Command { name: "metrics", usage: "metrics [--format prometheus|json|simple|values]", summary: "alias of metricsctl", run: observe::metricsctl },
    Command { name: "alloc", usage: "alloc <bytes>", summary: "allocate and free heap memory", run: workload::alloc },
    Command { name: "net", usage: "net send <bytes>|stats", summary: "send a frame on the network device", run: workload::net },
    Command { name: "ifconfig", usage: "ifconfig [--wait]", summary: "network interface, address and link (--wait: until it has an address)", run: network::ifconfig },
    Command { name: "netstat", usage: "netstat", summary: "sockets and network counters", run: network::netstat },
    Command { name: "ping", usage: "ping <ipv4> [count]", summary: "ICMP echo with round-trip times", run: network::ping },
    Command { name: "random", usage: "random [bytes]", summary: "bytes (1-256, default 16) from the entropy device, in hex", run: system::random },
    Command { name: "cksum", usage: "cksum <path>", summary: "CRC-32 and size of a file", run: workload::cksum },
    #[cfg(feature = "chaos")]
    Command { name: "chaos", usage: "chaos mode <m>|rate <0-100>|seed <n>|delay <us>|stats [--json]|reset|break none|errno|uncounted", summary: "fault injection", run: chaos::chaos },
    #[cfg(feature = "stress")]
    Command { name: "stress", usage: "stress start [mixed|fs|heap|tasks|idle] [--intensity 1-100] [--leak bytes]|stop|status", summary: "soak workload", run: stress::stress },
    Command { name: "frame", usage: "frame on|off", summary: "machine mode framing (docs/PROTOCOL.md)", run: system::frame },
    Command { name: "poweroff", usage: "poweroff [code]", summary: "power off with exit code 0-100", run: system::poweroff },
    Command { name: "panic", usage: "panic [message] | panic --all-cpus", summary: "panic on purpose (on every CPU at once)", run: system::panic },
    Command { name: "fault", usage: "fault", summary: "touch an unmapped address on purpose", run: system::fault },
    Command { name: "overflow", usage: "overflow", summary: "overflow the shell's stack into its guard page", run: system::overflow },
    Command { name: "wx", usage: "wx", summary: "write into kernel text (W^X makes it fault)", run: system::wx },
    Command { name: "null", usage: "null", summary: "read through a null pointer", run: system::null },
    #[cfg(any(debug_assertions, feature = "lock-order-check"))]
    Command { name: "lockorder", usage: "lockorder", summary: "take two ranked locks out of order (the debug lock-order check panics)", run: system::lock_order_inversion },
];

fn help(invocation: &mut Invocation<'_>) -> CommandResult {
    let width = COMMANDS.iter().map(|c| c.usage.len()).max().unwrap_or(0);
    for command in COMMANDS {
        let _ = writeln!(invocation.out, "{:width$}  {}", command.usage, command.summary);
    }
    Ok(())
}

/// Parses and runs one line; returns its status.
pub fn run_line(shell: &mut Shell, line: &str) -> u8 {
    let parsed = match sis_shell::parse(line) {
        Ok(parsed) => parsed,
        Err(error) => {
            crate::println!("error: {}", error);
            return error.errno().code();
        }
    };
    let Some((name, args)) = parsed.argv.split_first() else {
        return 0;
    };
    let Some(command) = COMMANDS.iter().find(|c| c.name == name.as_str()) else {
        crate::println!("error: unknown command '{}' (try 'help')", printable(name));
        return STATUS_UNKNOWN_COMMAND;
    };
    let mut out = if parsed.redirect.is_some() { Output::capture() } else { Output::console() };
    let mut result = (command.run)(&mut Invocation { args, out: &mut out, shell });
    out.flush();
    if let (Ok(()), Some(redirect), Output::Capture(text)) = (&result, &parsed.redirect, &out) {
        result = fs::write_redirect(shell, &redirect.path, text.as_bytes(), redirect.is_append);
    }
    match result {
        Ok(()) => 0,
        Err(CommandError::Errno(errno, detail)) => {
            crate::println!("error: {}: {}", errno.name(), detail);
            errno.code()
        }
        Err(CommandError::Usage) => {
            crate::println!("error: {}: usage: {}", Errno::EINVAL.name(), command.usage);
            Errno::EINVAL.code()
        }
        Err(CommandError::Status(status)) => status,
    }
}

/// A user-typed word as an error message may quote it: bounded, and
/// printable (the line editor already dropped control bytes, but a word can
/// be long).
pub fn printable(word: &str) -> String {
    let mut shown: String = word.chars().take(64).collect();
    if word.chars().nth(64).is_some() {
        shown.push_str("...");
    }
    shown
}

/// Parses a decimal argument or fails with a usage error.
pub fn parse_number<T: core::str::FromStr>(text: &str) -> Result<T, CommandError> {
    text.parse::<T>().map_err(|_| CommandError::Usage)
}

/// Joins words with single spaces (for `echo` and `write`).
pub fn join_words(words: &[String]) -> String {
    let mut text = String::new();
    for (index, word) in words.iter().enumerate() {
        if index > 0 {
            text.push(' ');
        }
        text.push_str(word);
    }
    text
}

