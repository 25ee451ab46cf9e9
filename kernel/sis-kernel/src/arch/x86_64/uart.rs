//! COM1, a 16550 UART at I/O port 0x3f8: polled output, polled input, and the
//! receive interrupt that wakes the idle CPU (register map: NS16550A
//! datasheet); `Com1` is the driver as a `sis_hal::CharDevice`.

use sis_hal::{CharDevice, DeviceError};

use super::cpu::{inb, outb};

/// COM1's base I/O port on the PC (and on QEMU q35's ISA serial device).
/// A constant: ACPI describes COM1 only in the DSDT's AML (`_CRS` of a
/// PNP0501 device), which this kernel does not interpret, and q35 has no
/// SPCR table (docs/kernel-devices.md).
const COM1: u16 = 0x3f8;
/// ISA IRQ line of COM1.
pub const COM1_ISA_IRQ: u8 = 4;

// Register offsets from the base port.
const DATA: u16 = 0; // RBR (read) / THR (write); DLL when LCR.DLAB = 1
const INTERRUPT_ENABLE: u16 = 1; // IER; DLM when LCR.DLAB = 1
const FIFO_CONTROL: u16 = 2; // FCR (write)
const LINE_CONTROL: u16 = 3; // LCR
const MODEM_CONTROL: u16 = 4; // MCR
const LINE_STATUS: u16 = 5; // LSR

const LSR_DATA_READY: u8 = 1 << 0;
const LSR_TRANSMIT_EMPTY: u8 = 1 << 5;
const IER_RECEIVED_DATA: u8 = 1 << 0;

/// Programs 115200 baud 8N1 with FIFOs (receive trigger at 1 byte, so every
/// byte raises the receive interrupt at once) and the interrupt output gate.
/// The receive interrupt itself stays off until the I/O APIC routes it.
pub fn init() {
    // SAFETY: COM1's registers; this is the only code that configures them,
    // and it runs on the boot CPU before anything else uses the console.
    unsafe {
        outb(COM1 + INTERRUPT_ENABLE, 0);
        outb(COM1 + LINE_CONTROL, 0x80); // DLAB: the next two ports are the divisor
        outb(COM1 + DATA, 1); // divisor 1 = 115200 baud
        outb(COM1 + INTERRUPT_ENABLE, 0);
        outb(COM1 + LINE_CONTROL, 0x03); // 8 data bits, no parity, 1 stop bit, DLAB off
        outb(COM1 + FIFO_CONTROL, 0x07); // enable and clear both FIFOs, trigger level 1
                                         // DTR | RTS | OUT2: on the PC, OUT2 gates the UART's IRQ line onto the ISA bus.
        outb(COM1 + MODEM_CONTROL, 0x0b);
    }
}

/// Turns on the received-data interrupt (IER bit 0); called once the I/O APIC
/// routes the IRQ, so an early byte cannot raise an unhandled vector.
pub fn enable_receive_interrupt() {
    // SAFETY: COM1's IER; the vector it raises has a handler by now.
    unsafe { outb(COM1 + INTERRUPT_ENABLE, IER_RECEIVED_DATA) };
}

/// Polled, lock-free output (safe to call from the panic path): waits for the
/// transmit holding register to empty before each byte. Without a UART the
/// port reads 0xff, so the wait ends at once rather than hanging.
pub fn console_write(bytes: &[u8]) {
    for &byte in bytes {
        // SAFETY: COM1's LSR and THR; reading LSR has no side effect on TX.
        unsafe {
            while inb(COM1 + LINE_STATUS) & LSR_TRANSMIT_EMPTY == 0 {
                core::hint::spin_loop();
            }
            outb(COM1 + DATA, byte);
        }
    }
}

/// One received byte, if any; never blocks.
fn read_byte() -> Option<u8> {
    if has_input() {
        // SAFETY: LSR said a byte waits in RBR; reading it consumes that byte.
        Some(unsafe { inb(COM1 + DATA) })
    } else {
        None
    }
}

/// Whether a received byte waits to be read (LSR data ready). A missing UART
/// reads 0xff; treat that as "no input" so idle code does not spin on it.
pub fn has_input() -> bool {
    // SAFETY: reading LSR has no side effect on the receiver.
    let status = unsafe { inb(COM1 + LINE_STATUS) };
    status != 0xff && status & LSR_DATA_READY != 0
}

/// COM1 as a character device: `read` takes what the receive FIFO holds,
/// `write` waits for room and takes everything.
pub struct Com1;

impl CharDevice for Com1 {
    fn read(&mut self, buffer: &mut [u8]) -> Result<usize, DeviceError> {
        let mut count = 0;
        while count < buffer.len() {
            let Some(byte) = read_byte() else { break };
            buffer[count] = byte;
            count += 1;
        }
        Ok(count)
    }

    fn write(&mut self, data: &[u8]) -> Result<usize, DeviceError> {
        console_write(data);
        Ok(data.len())
    }
}
