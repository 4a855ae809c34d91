import { closeOnSignals } from '../service/shutdown';
import { loadConfig } from './config';
import { createGateway } from './createGateway';

async function main() {
  const gateway = await createGateway({ config: loadConfig(process.env) });
  const url = await gateway.start();
  gateway.app.log.info(`gateway ready at ${url}`);
  closeOnSignals(() => gateway.close(), gateway.app.log);
}

main().catch((error: Error) => {
  console.error(error.name === 'ConfigError' ? error.message : error);
  process.exit(1);
});
