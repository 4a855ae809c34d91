import { shutdownTracing } from '../auth';
import { loadConfig } from './config';
import { createGateway } from './createGateway';

async function main() {
  const gateway = await createGateway({ config: loadConfig(process.env) });
  const url = await gateway.start();
  gateway.app.log.info(`gateway ready at ${url}`);
  let closing = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (closing) return;
      closing = true;
      gateway.app.log.info(`${signal} received: draining and shutting down`);
      void gateway.close().then(shutdownTracing);
    });
  }
}

main().catch((error: Error) => {
  console.error(error.name === 'ConfigError' ? error.message : error);
  process.exit(1);
});
