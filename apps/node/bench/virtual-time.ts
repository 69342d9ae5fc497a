// A discrete-event clock for simulations that must measure the protocol,
// not the machine. Every timer, Date.now() and performance.now() in the
// process reads one fake clock; a driver fires the next timer, then lets
// the work it caused run to completion (promise jobs and I/O callbacks,
// through a real setImmediate) before time moves again. CPU work therefore
// takes zero simulated time: 200 nodes in one thread see the same latencies
// they would on 200 machines.
//
// The in-memory transport and memory-level defer work only through timers
// and promise jobs, which is what makes "the work it caused" well defined.
// Real sockets do not belong under this clock.
import FakeTimers from '@sinonjs/fake-timers'

export interface VirtualTime {
  /** Stops driving and restores the real timers and clocks. */
  uninstall(): void
  /** Timers fired so far. */
  readonly steps: number
}

/** Installs the fake clock at the real current time and starts driving it. */
export function installVirtualTime(): VirtualTime {
  const realImmediate = setImmediate
  const clock = FakeTimers.install({
    now: Date.now(),
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  })
  let running = true
  let steps = 0
  const yieldToWork = () => new Promise<void>((resolve) => realImmediate(resolve))
  void (async () => {
    while (running) {
      // Two turns: work started by a setImmediate callback gets its own turn too.
      await yieldToWork()
      await yieldToWork()
      if (!running) break
      if (clock.countTimers() > 0) {
        clock.next()
        steps++
      }
    }
  })()
  return {
    uninstall() {
      running = false
      clock.uninstall()
    },
    get steps() {
      return steps
    },
  }
}
