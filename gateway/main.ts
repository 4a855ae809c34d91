import { closeOnSignals } from '../service/shutdown';
import { describeStartupFailure, type StartupContext } from '../service/startupError';
import { loadConfig } from './config';
import { createGateway } from './createGateway';

let context: StartupContext = { service: 'gateway' };

async function main() {
  const config = loadConfig(process.env);
  context = { service: 'gateway', ports: { [config.METRICS_PORT]: ['METRICS_PORT'], [config.PORT]: ['PORT'] } };
  const gateway = await createGateway({ config });
  const url = await gateway.start();
  gateway.app.log.info(`gateway ready at ${url}`);
  closeOnSignals(() => gateway.close(), gateway.app.log);
}

main().catch((error: unknown) => {
  console.error(describeStartupFailure(error, context));
  process.exit(1);
});
