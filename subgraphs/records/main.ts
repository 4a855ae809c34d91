import { closeOnSignals, serveSubgraph } from '../kit';
import { loadConfig } from './config';
import * as records from './subgraph';

Promise.resolve()
  .then(() => serveSubgraph(records, loadConfig(process.env)))
  .then(
    (running) => {
      running.app.log.info(`records subgraph ready at ${running.url}`);
      closeOnSignals(() => running.close(), running.app.log);
    },
    (error: Error) => {
      console.error(error.name === 'ConfigError' ? error.message : error);
      process.exit(1);
    },
  );
