import { describeStartupFailure, type StartupContext } from '../../service/startupError';
import { closeOnSignals, serveSubgraph, startupContextOf } from '../kit';
import { loadConfig } from './config';
import * as auth from './subgraph';

let context: StartupContext = { service: auth.name };
Promise.resolve()
  .then(() => {
    const config = loadConfig(process.env);
    context = startupContextOf(config);
    return serveSubgraph(auth, config);
  })
  .then(
    (running) => {
      running.app.log.info(`auth subgraph ready at ${running.url}`);
      closeOnSignals(() => running.close(), running.app.log);
    },
    (error: unknown) => {
      console.error(describeStartupFailure(error, context));
      process.exit(1);
    },
  );
