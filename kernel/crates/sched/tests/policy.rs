//! The scheduler's policy on the host, time from `MockTimer`.

use sis_hal::timer::{MockTimer, Timer};
use sis_sched::{
    armed_timer_covers, cpus_to_wake, is_slice_over, make_ready, off_cpu, run, spawned, wake_input_waiters,
    wake_sleepers, Entry, RunQueue, Slot, State,
};

const SLICE_NS: u64 = 10_000_000;

/// A task table as the kernel keeps it (a slab) and its queue.
struct Table {
    tasks: Vec<Option<Entry>>,
    queue: RunQueue<64>,
}

impl Table {
    /// The boot CPU's idle task in slot 0, then ready tasks with these pids.
    fn with_ready(pids: &[u32]) -> Table {
        let mut table = Table { tasks: vec![Some(Entry::idle(0, 0))], queue: RunQueue::<64>::new() };
        for &pid in pids {
            table.spawn(pid);
        }
        table
    }

    fn spawn(&mut self, pid: u32) -> Slot {
        let slot = self.tasks.len();
        self.tasks.push(Some(Entry::ready(pid)));
        spawned(self.tasks[slot].as_ref().unwrap(), slot, &mut self.queue);
        slot
    }

    fn entry(&self, slot: Slot) -> &Entry {
        self.tasks[slot].as_ref().unwrap()
    }

    fn entry_mut(&mut self, slot: Slot) -> &mut Entry {
        self.tasks[slot].as_mut().unwrap()
    }

    fn off_cpu(&mut self, slot: Slot) {
        off_cpu(self.tasks[slot].as_mut().unwrap(), slot, &mut self.queue);
    }

    fn make_ready(&mut self, slot: Slot, boosted: bool) {
        make_ready(self.tasks[slot].as_mut().unwrap(), slot, &mut self.queue, boosted);
    }

    fn pid(&self, slot: Slot) -> u32 {
        self.entry(slot).pid
    }

    /// What the kernel's switch does on one CPU: the running task leaves in
    /// `state`, the next queued one (or `idle`) runs, and the one left is
    /// saved (`off_cpu`). Returns the slot now running.
    fn switch(&mut self, running: Slot, state: State, idle: Slot) -> Slot {
        let next = match self.queue.pop() {
            Some(next) => next,
            None if state == State::Ready => return running,
            None => idle,
        };
        self.entry_mut(running).state = state;
        run(self.entry_mut(next), 0);
        self.off_cpu(running);
        next
    }

    /// The queue holds exactly the ready tasks no CPU holds, idle ones
    /// excepted, each once.
    fn assert_queue_is_exact(&self) {
        let mut queued: Vec<Slot> = self.queue.iter().collect();
        queued.sort_unstable();
        let runnable: Vec<Slot> = self
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, task)| task.as_ref().is_some_and(Entry::is_runnable))
            .map(|(slot, _)| slot)
            .collect();
        assert_eq!(queued, runnable, "queue {:?}", self.queue.iter().collect::<Vec<_>>());
    }
}

/// Runs slices the way the tick does on one CPU: at the end of each the
/// running task goes back to ready and the next queued one runs.
fn run_slices(table: &mut Table, slices: usize) -> Vec<u32> {
    let mut running = 0;
    let mut order = Vec::new();
    for _ in 0..slices {
        running = table.switch(running, State::Ready, 0);
        order.push(table.pid(running));
        table.assert_queue_is_exact();
    }
    order
}

#[test]
fn ready_tasks_take_turns_round_robin_and_the_idle_task_is_never_queued() {
    let mut table = Table::with_ready(&[3, 1, 2]);
    assert_eq!(run_slices(&mut table, 7), [3, 1, 2, 3, 1, 2, 3]);
}

#[test]
fn a_task_another_cpu_is_still_saving_is_not_queued_until_it_is_saved() {
    let mut table = Table::with_ready(&[1]);
    // CPU 0 runs task 1, which yields; until CPU 0 saved it, nobody else may take it.
    let one = table.queue.pop().unwrap();
    run(table.entry_mut(one), 0);
    table.entry_mut(one).state = State::Ready;
    assert!(table.queue.is_empty(), "a task still on its CPU is not runnable elsewhere");
    table.assert_queue_is_exact();
    table.off_cpu(one);
    assert_eq!(table.queue.pop(), Some(one));
}

#[test]
fn a_sleeper_woken_before_its_cpu_saved_it_is_queued_once_saved() {
    let mut table = Table::with_ready(&[1]);
    let one = table.queue.pop().unwrap();
    run(table.entry_mut(one), 0);
    // It blocks; another CPU wakes it before CPU 0 finished the switch.
    table.entry_mut(one).state = State::Sleeping;
    table.make_ready(one, false);
    assert!(table.queue.is_empty());
    table.off_cpu(one);
    assert_eq!(table.queue.iter().collect::<Vec<_>>(), [one]);
    table.assert_queue_is_exact();
}

#[test]
fn input_waiters_wake_boosted_and_run_before_the_queue() {
    let mut table = Table::with_ready(&[1, 2, 3, 4]);
    // The shell (4) runs first and waits for input; the others take turns.
    let mut running = table.switch(0, State::Ready, 0);
    assert_eq!(table.pid(running), 1);
    for _ in 0..3 {
        running = table.switch(running, State::Ready, 0);
    }
    assert_eq!(table.pid(running), 4);
    running = table.switch(running, State::WaitingInput, 0);
    assert_eq!(table.pid(running), 1);
    running = table.switch(running, State::Ready, 0);
    assert_eq!(table.pid(running), 2);
    assert!(wake_input_waiters(&mut table.tasks, &mut table.queue));
    table.assert_queue_is_exact();
    running = table.switch(running, State::Ready, 0);
    assert_eq!(table.pid(running), 4, "the woken reader runs first, out of turn");
    assert!(!table.entry(running).is_boosted, "the boost is spent once it runs");
    assert!(!wake_input_waiters(&mut table.tasks, &mut table.queue), "nobody waits any more");
    assert_eq!(run_slices(&mut table, 4).len(), 4);
}

#[test]
fn sleepers_wake_when_the_mock_clock_reaches_their_deadline() {
    let mut timer = MockTimer::new();
    let mut table = Table::with_ready(&[]);
    for (pid, deadline) in [(1, 5_000_000), (2, 20_000_000), (3, 20_000_000)] {
        table.tasks.push(Some(Entry { state: State::Sleeping, wake_at_ns: deadline, ..Entry::ready(pid) }));
    }
    assert_eq!(wake_sleepers(&mut table.tasks, &mut table.queue, timer.now_ns(), 0), Some(5_000_000));
    assert!(table.queue.is_empty());
    timer.advance_ns(5_000_000);
    assert_eq!(wake_sleepers(&mut table.tasks, &mut table.queue, timer.now_ns(), 0), Some(20_000_000));
    let states: Vec<State> = table.tasks[1..].iter().map(|task| task.as_ref().unwrap().state).collect();
    assert_eq!(states, [State::Ready, State::Sleeping, State::Sleeping]);
    table.assert_queue_is_exact();
    timer.advance_ns(15_000_000);
    assert_eq!(wake_sleepers(&mut table.tasks, &mut table.queue, timer.now_ns(), 0), None);
    assert_eq!(table.queue.iter().map(|slot| table.pid(slot)).collect::<Vec<_>>(), [1, 2, 3]);
}

#[test]
fn a_jittery_clock_never_wakes_a_sleeper_early() {
    let mut timer = MockTimer::new().with_jitter(3_000_000, 7);
    let mut table = Table::with_ready(&[]);
    table.tasks.push(Some(Entry { state: State::Sleeping, wake_at_ns: 50_000_000, ..Entry::ready(1) }));
    while table.entry(1).state == State::Sleeping {
        let before = timer.now_ns();
        wake_sleepers(&mut table.tasks, &mut table.queue, before, 0);
        if table.entry(1).state == State::Ready {
            assert!(before >= 50_000_000, "woken at {before} ns");
        }
        timer.advance_ns(1_000_000);
    }
}

#[test]
fn free_slots_exited_and_sleeping_tasks_are_never_queued() {
    let mut table = Table::with_ready(&[1, 2]);
    let one = table.switch(0, State::Ready, 0);
    let two = table.switch(one, State::Exited, 0);
    table.tasks[one] = None;
    let idle = table.switch(two, State::Sleeping, 0);
    assert_eq!(idle, 0, "nothing left to run: the idle task");
    table.entry_mut(two).wake_at_ns = u64::MAX;
    assert_eq!(wake_sleepers(&mut table.tasks, &mut table.queue, 0, 0), Some(u64::MAX));
    assert!(table.queue.is_empty());
    table.assert_queue_is_exact();
}

/// Several CPUs switching, sleeping, waking and exiting in a pseudo-random
/// order; after every step the queue is exactly the runnable tasks, and no
/// task runs on two CPUs.
#[test]
fn the_queue_stays_exact_across_cpus_switching_and_waking_in_any_order() {
    const CPUS: usize = 3;
    let mut table = Table { tasks: Vec::new(), queue: RunQueue::<64>::new() };
    for cpu in 0..CPUS {
        table.tasks.push(Some(Entry::idle(cpu as u32, cpu)));
    }
    for pid in 10..18 {
        table.spawn(pid);
    }
    // Per CPU: the running slot and the slot it is still saving.
    let mut running: Vec<Slot> = (0..CPUS).collect();
    let mut saving: Vec<Option<Slot>> = vec![None; CPUS];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next_pid = 18;
    for step in 0..20_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let cpu = (seed % CPUS as u64) as usize;
        match (seed >> 8) % 6 {
            // Finish the switch this CPU started.
            0 | 1 => {
                if let Some(slot) = saving[cpu].take() {
                    table.off_cpu(slot);
                    if table.entry(slot).state == State::Exited {
                        table.tasks[slot] = None;
                    }
                }
            }
            // Switch away in some state (only once the last switch finished).
            2 | 3 if saving[cpu].is_none() => {
                let current = running[cpu];
                let is_idle = table.entry(current).idle_of_cpu.is_some();
                let state = match (seed >> 16) % 4 {
                    _ if is_idle => State::Ready,
                    0 => State::Sleeping,
                    1 => State::WaitingInput,
                    2 if table.tasks.iter().flatten().count() > CPUS + 2 => State::Exited,
                    _ => State::Ready,
                };
                let next = match table.queue.pop() {
                    Some(next) => next,
                    None if state == State::Ready => continue,
                    None => cpu,
                };
                let leaving = table.entry_mut(current);
                leaving.state = state;
                leaving.wake_at_ns = seed >> 40;
                run(table.entry_mut(next), cpu);
                running[cpu] = next;
                saving[cpu] = Some(current);
            }
            // Wake-ups: sleepers due, input, or a new task.
            4 => {
                wake_sleepers(&mut table.tasks, &mut table.queue, seed >> 40, cpu);
            }
            _ => {
                if seed & 1 == 0 {
                    wake_input_waiters(&mut table.tasks, &mut table.queue);
                } else if table.tasks.len() < 40 {
                    table.spawn(next_pid);
                    next_pid += 1;
                }
            }
        }
        table.assert_queue_is_exact();
        let mut on_cpu: Vec<Slot> = running.iter().copied().chain(saving.iter().flatten().copied()).collect();
        on_cpu.sort_unstable();
        on_cpu.dedup();
        assert_eq!(on_cpu.len(), running.len() + saving.iter().flatten().count(), "step {step}: a task on two CPUs");
        for &slot in &on_cpu {
            assert!(table.entry(slot).is_on_cpu, "step {step}: slot {slot} runs but is not marked on a CPU");
        }
    }
}

#[test]
fn each_cpu_looks_only_at_the_deadlines_of_its_own_sleepers_but_any_cpu_wakes_a_due_one() {
    let mut table = Table::with_ready(&[]);
    for (pid, cpu, deadline) in [(1, 0, 5_000_000), (2, 1, 3_000_000), (3, 1, 9_000_000)] {
        table.tasks.push(Some(Entry { state: State::Sleeping, wake_at_ns: deadline, cpu, ..Entry::ready(pid) }));
    }
    // CPU 0 need not wake for CPU 1's sleepers, and the reverse.
    assert_eq!(wake_sleepers(&mut table.tasks, &mut table.queue, 0, 0), Some(5_000_000));
    assert_eq!(wake_sleepers(&mut table.tasks, &mut table.queue, 0, 1), Some(3_000_000));
    // Whoever looks once one is due readies it.
    assert_eq!(wake_sleepers(&mut table.tasks, &mut table.queue, 6_000_000, 0), None);
    assert_eq!(table.queue.iter().map(|slot| table.pid(slot)).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(wake_sleepers(&mut table.tasks, &mut table.queue, 6_000_000, 1), Some(9_000_000));
    // A task that runs on a CPU moves its sleeps to that CPU's timer.
    let slot = table.queue.pop().unwrap();
    run(table.entry_mut(slot), 3);
    assert_eq!(table.entry(slot).cpu, 3);
}

#[test]
fn queued_work_wakes_one_waiting_cpu_per_task_never_the_waker_and_none_twice() {
    let waiting = 0b1011;
    // One task queued by a busy CPU 2: the first waiting CPU.
    assert_eq!(cpus_to_wake(1, 2, false, waiting), 0b0001);
    // Three tasks: every waiting CPU, and no more than there are.
    assert_eq!(cpus_to_wake(3, 2, false, waiting), 0b1011);
    assert_eq!(cpus_to_wake(9, 2, false, waiting), 0b1011);
    // An idle waker (its idle loop looks next) takes one itself.
    assert_eq!(cpus_to_wake(1, 0, true, waiting), 0);
    assert_eq!(cpus_to_wake(2, 0, true, waiting), 0b0010);
    // The waker is never sent an IPI, even if marked waiting.
    assert_eq!(cpus_to_wake(4, 1, false, waiting), 0b1001);
    // Nothing queued, or nobody waiting: nothing to send.
    assert_eq!(cpus_to_wake(0, 2, false, waiting), 0);
    assert_eq!(cpus_to_wake(2, 2, false, 0), 0);
}

#[test]
#[should_panic(expected = "run queue full")]
fn a_queue_too_small_for_the_ready_tasks_stops_loudly_instead_of_losing_one() {
    let mut queue = RunQueue::<2>::new();
    for slot in 1..=3 {
        spawned(&Entry::ready(slot as u32), slot, &mut queue);
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
