import { describeStartupFailure, type StartupContext } from '../../service/startupError';
import { closeOnSignals, serveSubgraph, startupContextOf } from '../kit';
import { loadConfig } from './config';
import * as users from './subgraph';

let context: StartupContext = { service: users.name };
Promise.resolve()
  .then(() => {
    const config = loadConfig(process.env);
    context = startupContextOf(config);
    return serveSubgraph(users, config);
  })
  .then(
    (running) => {
      running.app.log.info(`users subgraph ready at ${running.url}`);
      closeOnSignals(() => running.close(), running.app.log);
    },
    (error: unknown) => {
      console.error(describeStartupFailure(error, context));
      process.exit(1);
    },
  );
