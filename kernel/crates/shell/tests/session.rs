//! The shell's line loop over a mock UART: what a user or the CLI types goes
//! in as bytes, and the test reads back exactly what the serial line shows.

use std::fmt::Write as _;

use sis_hal::MockCharDevice;
use sis_shell::{parse, Interpreter, Numbering, Session, Terminal, UartTerminal};

/// A small command table in the kernel's style: `echo`, `frame on|off`,
/// `false` (status 1); anything else is 127.
struct TestCommands {
    lines_run: Vec<String>,
}

impl Interpreter<UartTerminal<MockCharDevice>> for TestCommands {
    fn run_line(
        &mut self,
        line: &str,
        terminal: &mut UartTerminal<MockCharDevice>,
        numbering: &mut Numbering,
    ) -> u8 {
        self.lines_run.push(line.to_string());
        let parsed = match parse(line) {
            Ok(parsed) => parsed,
            Err(error) => {
                let _ = writeln!(terminal, "error: {error}");
                return error.errno().code();
            }
        };
        match parsed
            .argv
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            [] => 0,
            ["echo", words @ ..] => {
                let _ = writeln!(terminal, "{}", words.join(" "));
                0
            }
            ["frame", "on"] => {
                terminal.set_framed(true);
                numbering.restart();
                terminal.write_marker(format_args!("sis:ready"));
                0
            }
            ["frame", "off"] => {
                terminal.set_framed(false);
                0
            }
            ["false"] => 1,
            [name, ..] => {
                let _ = writeln!(terminal, "error: unknown command '{name}'");
                127
            }
        }
    }
}

/// Runs a fresh shell over a mock UART holding `input`; returns what the
/// UART sent and the lines the interpreter ran.
fn run(input: &[u8]) -> (String, Vec<String>) {
    let mut uart = MockCharDevice::new();
    uart.push_input(input);
    let mut terminal = UartTerminal::new(uart);
    let mut commands = TestCommands {
        lines_run: Vec::new(),
    };
    Session::new().run(&mut terminal, &mut commands);
    (
        String::from_utf8_lossy(terminal.device.output()).into_owned(),
        commands.lines_run,
    )
}

#[test]
fn human_mode_echoes_runs_and_prompts() {
    let (output, lines) = run(b"echo hi  there\r\n");
    assert_eq!(output, "sis> echo hi  there\r\nhi there\r\nsis> ");
    assert_eq!(lines, ["echo hi  there"]);
}

#[test]
fn editing_keys_show_on_the_line_and_in_what_runs() {
    // Backspace, Ctrl-U (two characters erased), Ctrl-C.
    let (output, lines) = run(b"ecx\x7fho\x15ok\x03echo y\r");
    assert_eq!(
        output,
        concat!(
            "sis> ecx\x08 \x08ho",
            "\x08 \x08\x08 \x08\x08 \x08\x08 \x08",
            "ok^C\r\nsis> echo y\r\ny\r\nsis> "
        )
    );
    assert_eq!(lines, ["echo y"]);
}

#[test]
fn machine_mode_frames_every_line_and_echoes_nothing() {
    let (output, _) = run(b"frame on\recho a\rfalse\rnope\rframe off\recho b\r");
    assert_eq!(
        output,
        concat!(
            // A marker starts a line of its own: the prompt before it is ended.
            "sis> frame on\r\n\x01sis:ready\r\nsis> \r\n",
            "\x01sis:begin 1 echo a\r\na\r\n\x01sis:end 1 0\r\nsis> \r\n",
            "\x01sis:begin 2 false\r\n\x01sis:end 2 1\r\nsis> \r\n",
            "\x01sis:begin 3 nope\r\nerror: unknown command 'nope'\r\n\x01sis:end 3 127\r\nsis> \r\n",
            "\x01sis:begin 4 frame off\r\n\x01sis:end 4 0\r\nsis> ",
            "echo b\r\nb\r\nsis> "
        )
    );
}

#[test]
fn frame_on_again_restarts_the_numbering() {
    let (output, _) = run(b"frame on\recho a\rframe on\recho b\r");
    assert!(
        output.contains("\x01sis:begin 2 frame on\r\n\x01sis:ready\r\n\x01sis:end 0 0\r\n"),
        "{output:?}"
    );
    assert!(output.contains("\x01sis:begin 1 echo b\r\n"), "{output:?}");
}

#[test]
fn refused_lines_report_their_errno_and_run_nothing() {
    let mut long = b"frame on\r".to_vec();
    long.extend(std::iter::repeat_n(b'x', 1025));
    long.extend_from_slice(b"\r\xc3(\recho 'open\r");
    let (output, lines) = run(&long);
    assert!(output.contains("\x01sis:begin 1 <refused>\r\nerror: E2BIG: line longer than 1024 bytes\r\n\x01sis:end 1 7\r\n"), "{output:?}");
    assert!(
        output.contains(
            "\x01sis:begin 2 ?(\r\nerror: EINVAL: line is not valid UTF-8\r\n\x01sis:end 2 22\r\n"
        ),
        "{output:?}"
    );
    assert!(output.contains("\x01sis:begin 3 echo 'open\r\nerror: EINVAL: unterminated ' quote\r\n\x01sis:end 3 22\r\n"), "{output:?}");
    // Only the two lines that were text reached the interpreter.
    assert_eq!(lines, ["frame on", "echo 'open"]);
}

/// xorshift64 for a reproducible byte stream.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn hostile_bytes_never_forge_a_marker_and_the_shell_recovers() {
    let mut state = 0x51_5eed_u64;
    for case in 0..300 {
        let mut input = b"frame on\r".to_vec();
        for _ in 0..(next_random(&mut state) % 2000) {
            let r = next_random(&mut state);
            input.push(match r % 6 {
                0 => 0x01,
                1 => b'\r',
                2 => 0x1b,
                _ => (r >> 8) as u8,
            });
        }
        input.extend_from_slice(b"\x03\recho survived\r");
        let (output, _) = run(&input);
        // Every SOH the UART sent starts a marker line the shell wrote.
        for (index, _) in output.match_indices('\x01') {
            let at_line_start = index == 0 || output[..index].ends_with("\r\n");
            let rest = &output[index + 1..];
            let is_marker = ["sis:ready", "sis:begin ", "sis:end "]
                .iter()
                .any(|m| rest.starts_with(m));
            assert!(
                at_line_start && is_marker,
                "case {case}: forged marker at {index}: {output:?}"
            );
        }
        assert!(
            output.contains("\r\nsurvived\r\n\x01sis:end "),
            "case {case}: {output:?}"
        );
        assert!(output.ends_with(" 0\r\nsis> "), "case {case}: {output:?}");
    }
}

#[test]
fn a_uart_that_stops_taking_output_does_not_hang_the_shell() {
    let mut uart = MockCharDevice::with_output_capacity(16);
    uart.push_input(b"echo a long line of output\r");
    let mut terminal = UartTerminal::new(uart);
    let mut commands = TestCommands {
        lines_run: Vec::new(),
    };
    Session::new().run(&mut terminal, &mut commands);
    assert_eq!(terminal.device.output(), b"sis> echo a long");
    assert_eq!(
        commands.lines_run,
        ["echo a long line of output"],
        "the command still ran"
    );
}
