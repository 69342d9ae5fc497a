// libp2p 2.9's own engines allow Node 20, but a transitive dependency
// (it-queue 1.1, via mortice and @libp2p/peer-store) calls
// Promise.withResolvers, which arrived in Node 22. This process only: the
// spec'd behaviour, defined when missing. Imported first by the benchmark.
const promise = Promise as unknown as { withResolvers?: () => unknown }
if (typeof promise.withResolvers !== 'function') {
  promise.withResolvers = function withResolvers<T>() {
    let resolve!: (value: T | PromiseLike<T>) => void
    let reject!: (reason?: unknown) => void
    const promise = new Promise<T>((res, rej) => {
      resolve = res
      reject = rej
    })
    return { promise, resolve, reject }
  }
}

export {}
