console.error('The chronos-node app does not exist yet (issue 4): there is no network to start.')
process.exit(1)
