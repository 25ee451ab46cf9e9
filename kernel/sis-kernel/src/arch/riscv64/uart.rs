//! NS16550A console UART (polled output, receive interrupt) at the address
//! the device tree names (QEMU virt's 0x1000_0000); `Ns16550` is the
//! driver as a `sis_hal::CharDevice`.
//!
//! Register offsets and bits are those of the National Semiconductor
//! PC16550D data sheet (QEMU's `serial.c` models it, byte-wide registers on
//! virt). OpenSBI has already set the line format (8N1) and enabled the
//! FIFO; the baud divisor means nothing to QEMU, so it is left alone.

use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicUsize, Ordering};

use sis_hal::{CharDevice, DeviceError};

use crate::arch::InterruptNumber;

/// MMIO base of UART0 on QEMU virt (`VIRT_UART0` in hw/riscv/virt.c): used
/// until the device tree is read, and after if it names no console.
pub const DEFAULT_BASE: usize = 0x1000_0000;

/// The UART in use; set once by the boot hart, before secondaries start.
static BASE: AtomicUsize = AtomicUsize::new(DEFAULT_BASE);
/// Its PLIC source number: from the device tree, else QEMU virt's
/// (`UART0_IRQ` in hw/riscv/virt.h).
pub static IRQ: InterruptNumber = InterruptNumber::new(10);

/// Receiver buffer (read) / transmitter holding register (write).
const RBR_THR: usize = 0;
/// Interrupt enable register.
const IER: usize = 1;
/// FIFO control register (write only).
const FCR: usize = 2;
/// Modem control register.
const MCR: usize = 4;
/// Line status register.
const LSR: usize = 5;

/// IER bit 0: "enable received data available interrupt".
const IER_RECEIVED_DATA: u8 = 0x01;
/// FCR bit 0: FIFO enable, trigger level 1 byte (bits 7:6 = 00) so the
/// interrupt rises on the first byte. Writing the same enable bit again
/// does not clear the FIFOs (only a change of FCR bit 0 does, in QEMU as on
/// the chip), so bytes typed during boot survive.
const FCR_FIFO_ENABLE: u8 = 0x01;
/// MCR: DTR, RTS and OUT2. On PC-style wiring OUT2 gates the interrupt line
/// to the interrupt controller; QEMU ignores it, real 16550s need it.
const MCR_DTR_RTS_OUT2: u8 = 0x0b;
/// LSR bit 0: data ready.
const LSR_DATA_READY: u8 = 0x01;
/// LSR bit 5: transmitter holding register empty.
const LSR_THR_EMPTY: u8 = 0x20;

fn read_register(offset: usize) -> u8 {
    // SAFETY: BASE + offset (offset < 8) is a byte register of the console
    // NS16550A (the tree's, inside the device window `arch::mmio_base`
    // checked, or virt's); the device window is identity-mapped (mmu.rs).
    unsafe { read_volatile((BASE.load(Ordering::Relaxed) + offset) as *const u8) }
}

fn write_register(offset: usize, value: u8) {
    // SAFETY: as in `read_register`; the registers written here have no
    // side effect beyond the UART itself.
    unsafe { write_volatile((BASE.load(Ordering::Relaxed) + offset) as *mut u8, value) }
}

/// Move the console to `base` (the device tree's UART); output until then
/// went to virt's.
pub fn use_base(base: usize) {
    BASE.store(base, Ordering::Relaxed);
}

/// Enable the receive interrupt (routed by the PLIC, see plic.rs) so that
/// an idle hart sleeping in WFI wakes on typed input.
pub fn init() {
    write_register(FCR, FCR_FIFO_ENABLE);
    write_register(MCR, MCR_DTR_RTS_OUT2);
    write_register(IER, IER_RECEIVED_DATA);
}

/// Polled, lock-free output: safe from the panic path and from any hart.
/// Bytes go out unchanged (the generic code sends `\r\n` itself).
pub fn write(bytes: &[u8]) {
    for &byte in bytes {
        while read_register(LSR) & LSR_THR_EMPTY == 0 {
            core::hint::spin_loop();
        }
        write_register(RBR_THR, byte);
    }
}

/// One received byte, if any; never blocks.
pub fn read() -> Option<u8> {
    if has_received_byte() {
        Some(read_register(RBR_THR))
    } else {
        None
    }
}

pub fn has_received_byte() -> bool {
    read_register(LSR) & LSR_DATA_READY != 0
}

/// The console NS16550A as a character device: `read` takes what the
/// receive FIFO holds, `write` waits for room and takes everything.
pub struct Ns16550;

impl CharDevice for Ns16550 {
    fn read(&mut self, buffer: &mut [u8]) -> Result<usize, DeviceError> {
        let mut count = 0;
        while count < buffer.len() {
            let Some(byte) = read() else { break };
            buffer[count] = byte;
            count += 1;
        }
        Ok(count)
    }

    fn write(&mut self, data: &[u8]) -> Result<usize, DeviceError> {
        write(data);
        Ok(data.len())
    }
}

/// `fmt::Write` over `write`, for the arch layer's own rare warnings.
pub struct Writer;

impl core::fmt::Write for Writer {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        write(text.as_bytes());
        Ok(())
    }
}
