//! PL011 UART console, polled, lock-free, at the address the device tree
//! gives (QEMU virt's first serial port, 0x0900_0000); `Pl011` is the
//! driver as a `sis_hal::CharDevice`.
//!
//! Register offsets and bits: Arm PrimeCell UART (PL011) Technical Reference
//! Manual, DDI 0183G, "Register descriptions". Every access is a single aligned 32-bit
//! volatile load or store to a Device mapping, so these functions hold no lock
//! and work from early boot, the panic path and any CPU.

use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicUsize, Ordering};

use sis_hal::{CharDevice, DeviceError};

use crate::arch::InterruptNumber;

/// QEMU virt maps the first PL011 here (hw/arm/virt.c `VIRT_UART`; the DTB's
/// `/pl011@9000000`, also its `stdout-path`). Used until the device tree is
/// read, and after if it names no console.
pub const DEFAULT_BASE: usize = 0x0900_0000;

/// The PL011 in use; set once, by the boot CPU, before secondaries start.
static BASE: AtomicUsize = AtomicUsize::new(DEFAULT_BASE);

/// The PL011's interrupt: from the device tree, else QEMU virt's SPI 1,
/// i.e. GIC INTID 32 + 1.
pub static INTID: InterruptNumber = InterruptNumber::new(33);

const DR: usize = 0x000; // data register
const FR: usize = 0x018; // flag register
const IBRD: usize = 0x024; // integer baud rate divisor
const FBRD: usize = 0x028; // fractional baud rate divisor
const LCR_H: usize = 0x02C; // line control
const CR: usize = 0x030; // control
const IMSC: usize = 0x038; // interrupt mask set/clear
const ICR: usize = 0x044; // interrupt clear

const FR_RXFE: u32 = 1 << 4; // receive FIFO empty
const FR_TXFF: u32 = 1 << 5; // transmit FIFO full
const FR_BUSY: u32 = 1 << 3; // still shifting out a byte
const LCR_H_FEN: u32 = 1 << 4; // FIFOs enabled
const LCR_H_WLEN_8: u32 = 0b11 << 5; // 8 data bits (no parity, 1 stop bit: zeros)
const CR_UARTEN: u32 = 1 << 0;
const CR_TXE: u32 = 1 << 8;
const CR_RXE: u32 = 1 << 9;
const INT_RX: u32 = 1 << 4; // receive (FIFO reached its trigger level)
const INT_RT: u32 = 1 << 6; // receive timeout (bytes sit below the trigger level)
const INT_ALL: u32 = 0x7FF;

fn read(offset: usize) -> u32 {
    // SAFETY: BASE + offset is a PL011 register (the tree's console, inside
    // the device window checked by `arch::mmio_base`; mapped as Device
    // memory once the MMU is on, and Device by definition before); a 32-bit
    // aligned read has no side effect beyond the device's documented one.
    unsafe { read_volatile((BASE.load(Ordering::Relaxed) + offset) as *const u32) }
}

fn write(offset: usize, value: u32) {
    // SAFETY: as in `read`: an aligned 32-bit store to a PL011 register.
    unsafe { write_volatile((BASE.load(Ordering::Relaxed) + offset) as *mut u32, value) }
}

/// Makes the PL011 at `base` the console and puts it in a known state: 8N1, 115200 baud for QEMU's 24 MHz
/// UARTCLK (QEMU ignores the divisor; real PL011s need it), every interrupt
/// masked. The sequence (disable, wait for idle, program, enable) is the one
/// the TRM's CR description prescribes.
///
/// The FIFO enable bit is kept as found (off out of reset): changing LCR_H.FEN
/// flushes the receive buffer, and in QEMU 7.2 doing so with a byte already
/// typed lost or garbled the first bytes of a piped line (seen here: "ppweroff"
/// for "poweroff"). Without the FIFO, QEMU holds further input in the chardev
/// until the holding register is read (flow control), so nothing is lost; each
/// byte wakes `wait_for_event` once.
pub fn init(base: usize) {
    BASE.store(base, Ordering::Relaxed);
    write(CR, 0);
    while read(FR) & FR_BUSY != 0 {}
    write(IMSC, 0);
    write(ICR, INT_ALL);
    // 24 MHz / (16 * 115200) = 13.02: IBRD 13, FBRD round(0.02 * 64) = 1.
    write(IBRD, 13);
    write(FBRD, 1);
    let fifo_enable = read(LCR_H) & LCR_H_FEN;
    write(LCR_H, LCR_H_WLEN_8 | fifo_enable);
    write(CR, CR_UARTEN | CR_TXE | CR_RXE);
}

/// Lets received bytes raise the UART's interrupt line, which the GIC
/// forwards so that `wfi` in `wait_for_event` wakes up. The line is level
/// triggered and drops once the receive FIFO is read empty, so nothing needs
/// acknowledging.
pub fn enable_receive_interrupt() {
    write(IMSC, INT_RX | INT_RT);
}

/// Polled output, byte for byte, no translation.
pub fn write_bytes(bytes: &[u8]) {
    for &byte in bytes {
        while read(FR) & FR_TXFF != 0 {
            core::hint::spin_loop();
        }
        write(DR, u32::from(byte));
    }
}

/// One received byte, if the receive FIFO holds any.
pub fn read_byte() -> Option<u8> {
    if has_input() {
        // Bits 11:8 of DR carry error flags (framing, parity, break, overrun);
        // the byte is delivered anyway, as a terminal would.
        Some((read(DR) & 0xFF) as u8)
    } else {
        None
    }
}

/// Whether a received byte waits in the FIFO.
pub fn has_input() -> bool {
    read(FR) & FR_RXFE == 0
}

/// The console PL011 as a character device: `read` takes what the receive
/// FIFO holds, `write` waits for room and takes everything.
pub struct Pl011;

impl CharDevice for Pl011 {
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
        write_bytes(data);
        Ok(data.len())
    }
}
