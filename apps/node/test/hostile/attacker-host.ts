// The attacker host: a child process (started by attacker.ts) that runs named attacks from
// attacks.ts against a node, one request at a time over IPC, and answers with what it sent
// and what it was answered. It exits when told to, or as soon as its parent goes away, so a
// failed or killed test leaves no attacker behind.
import { AttackSession, type Request, type Response } from './attacks.js'

const session = new AttackSession()

const reply = (response: Response) => process.send?.(response)

async function perform(request: Request): Promise<unknown> {
  switch (request.op) {
    case 'open':
      return session.open(request.params)
    case 'announceFlood':
      return session.announceFlood(request.params)
    case 'pullFlood':
      return session.pullFlood(request.params)
    case 'makeBlocks':
      return session.makeBlocks(request.params)
    case 'sendBlocks':
      return session.sendBlocks(request.params)
    case 'connectMany':
      return session.connectMany(request.params)
    case 'crowdOpen':
      return session.crowdOpen(request.params)
    case 'stillAnswers':
      return session.stillAnswers(request.params)
    case 'report':
      return session.report()
    case 'close':
      return session.close()
  }
}

process.on('message', (request: Request) => {
  perform(request).then(
    (value) => reply({ id: request.id, ok: true, value }),
    (error: unknown) =>
      reply({
        id: request.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      }),
  )
})
// The IPC channel closes when the parent exits, however it exits.
process.on('disconnect', () => {
  session.close()
  process.exit(0)
})
reply({ ready: true })
