//! The scheduler's policy on the host, time from `MockTimer`.

use sis_hal::timer::{MockTimer, Timer};
use sis_sched::{armed_timer_covers, has_runnable, is_slice_over, pick, wake_input_waiters, wake_sleepers, Entry, State};

const SLICE_NS: u64 = 10_000_000;

/// Runs the policy the way the kernel's tick does on one CPU: every slice
/// the running task goes back to ready and the next one is picked.
fn run_slices(entries: &mut [Entry], slices: usize) -> Vec<u32> {
    let mut order = Vec::new();
    let mut cursor = 0;
    let mut running: Option<usize> = None;
    for _ in 0..slices {
        if let Some(index) = running.take() {
            entries[index].state = State::Ready;
            entries[index].is_on_cpu = false;
        }
        let Some(next) = pick(entries, cursor) else { break };
        entries[next].state = State::Running;
        entries[next].is_on_cpu = true;
        entries[next].is_boosted = false;
        cursor = entries[next].pid;
        order.push(cursor);
        running = Some(next);
    }
    order
}

#[test]
fn ready_tasks_take_turns_round_robin_and_the_idle_task_is_never_picked() {
    let mut entries = vec![Entry::idle(0, 0), Entry::ready(3), Entry::ready(1), Entry::ready(2)];
    assert_eq!(run_slices(&mut entries, 7), [1, 2, 3, 1, 2, 3, 1]);
}

#[test]
fn a_task_another_cpu_is_still_saving_is_not_picked() {
    let mut entries = vec![Entry::ready(1), Entry::ready(2)];
    entries[0].is_on_cpu = true;
    assert_eq!(pick(&entries, 0), Some(1));
    entries[1].is_on_cpu = true;
    assert_eq!(pick(&entries, 0), None);
    assert!(!has_runnable(&entries));
}

#[test]
fn input_waiters_wake_boosted_and_run_before_the_queue() {
    let mut entries = vec![Entry::ready(1), Entry::ready(2), Entry::ready(3), Entry::ready(4)];
    entries[3].state = State::WaitingInput;
    // The shell (4) waits; the others take turns.
    assert_eq!(run_slices(&mut entries, 3), [1, 2, 3]);
    assert!(wake_input_waiters(&mut entries));
    let next = pick(&entries, 3).unwrap();
    assert_eq!(entries[next].pid, 4, "the woken reader runs first, out of turn");
    assert!(!wake_input_waiters(&mut entries), "nobody waits any more");
}

#[test]
fn sleepers_wake_when_the_mock_clock_reaches_their_deadline() {
    let mut timer = MockTimer::new();
    let mut entries = vec![Entry::ready(1), Entry::ready(2), Entry::ready(3)];
    for (entry, deadline) in entries.iter_mut().zip([5_000_000, 20_000_000, 20_000_000]) {
        entry.state = State::Sleeping;
        entry.wake_at_ns = deadline;
    }
    assert_eq!(wake_sleepers(&mut entries, timer.now_ns()), Some(5_000_000));
    assert!(!has_runnable(&entries));
    timer.advance_ns(5_000_000);
    assert_eq!(wake_sleepers(&mut entries, timer.now_ns()), Some(20_000_000));
    assert_eq!(entries.iter().map(|e| e.state).collect::<Vec<_>>(), [State::Ready, State::Sleeping, State::Sleeping]);
    timer.advance_ns(15_000_000);
    assert_eq!(wake_sleepers(&mut entries, timer.now_ns()), None);
    assert!(entries.iter().all(|entry| entry.state == State::Ready));
}

#[test]
fn a_jittery_clock_never_wakes_a_sleeper_early() {
    let mut timer = MockTimer::new().with_jitter(3_000_000, 7);
    let mut entries = vec![Entry::ready(1)];
    entries[0].state = State::Sleeping;
    entries[0].wake_at_ns = 50_000_000;
    while entries[0].state == State::Sleeping {
        let before = timer.now_ns();
        wake_sleepers(&mut entries, before);
        if entries[0].state == State::Ready {
            assert!(before >= 50_000_000, "woken at {before} ns");
        }
        timer.advance_ns(1_000_000);
    }
}

#[test]
fn the_slice_is_over_after_slice_ns_of_the_mock_clock() {
    let mut timer = MockTimer::new();
    timer.advance_ns(1_000);
    let switched_in = timer.now_ns();
    timer.advance_ns(SLICE_NS - 1);
    assert!(!is_slice_over(switched_in, timer.now_ns(), SLICE_NS));
    timer.advance_ns(1);
    assert!(is_slice_over(switched_in, timer.now_ns(), SLICE_NS));
    // A clock read before the switch-in (another CPU's) is not an overrun.
    assert!(!is_slice_over(switched_in, 0, SLICE_NS));
}

#[test]
fn exited_and_sleeping_tasks_are_never_picked() {
    let mut entries = vec![Entry::ready(1), Entry::ready(2)];
    entries[0].state = State::Exited;
    entries[1].state = State::Sleeping;
    entries[1].wake_at_ns = u64::MAX;
    assert_eq!(pick(&entries, 0), None);
}

#[test]
fn an_earlier_pending_deadline_covers_a_later_one_and_nothing_else_does() {
    let mut timer = MockTimer::new();
    timer.advance_ns(1_000);
    let now = timer.now_ns();
    // Pending and earlier (or the same): no need to program the timer.
    assert!(armed_timer_covers(Some(now + 5), now + 10, now));
    assert!(armed_timer_covers(Some(now + 10), now + 10, now));
    // Later than wanted: must be moved earlier.
    assert!(!armed_timer_covers(Some(now + 11), now + 10, now));
    // Fired (or firing) already, or never armed: must be programmed.
    assert!(!armed_timer_covers(Some(now), now + 10, now));
    assert!(!armed_timer_covers(Some(now - 1), now + 10, now));
    assert!(!armed_timer_covers(None, now + 10, now));
    // Time moves on: the kept deadline stops covering once it is reached.
    timer.advance_ns(5);
    assert!(!armed_timer_covers(Some(now + 5), now + 10, timer.now_ns()));
}
