import { closeOnSignals, serveSubgraph } from '../kit';
import { loadConfig } from './config';
import * as auth from './subgraph';

Promise.resolve()
  .then(() => serveSubgraph(auth, loadConfig(process.env)))
  .then(
    (running) => {
      running.app.log.info(`auth subgraph ready at ${running.url}`);
      closeOnSignals(() => running.close(), running.app.log);
    },
    (error: Error) => {
      console.error(error.name === 'ConfigError' ? error.message : error);
      process.exit(1);
    },
  );
