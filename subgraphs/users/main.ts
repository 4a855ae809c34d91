import { closeOnSignals, serveSubgraph } from '../kit';
import { loadConfig } from './config';
import * as users from './subgraph';

Promise.resolve()
  .then(() => serveSubgraph(users, loadConfig(process.env)))
  .then(
    (running) => {
      running.app.log.info(`users subgraph ready at ${running.url}`);
      closeOnSignals(() => running.close(), running.app.log);
    },
    (error: Error) => {
      console.error(error.name === 'ConfigError' ? error.message : error);
      process.exit(1);
    },
  );
