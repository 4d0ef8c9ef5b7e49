// `npm start`: until the real-VS-Code launcher lands, say what this build offers.
console.log(`Presage ${JSON.parse((await import('node:fs')).readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}

The VS Code launcher is not part of this build yet. What runs today:
  npm test                          unit and property tests
  npm run -s presage -- --help      the engine CLI (replay, make-tiny-model, generate, serve, …)
`);
