import { closeOnSignals, serveSubgraph } from '../kit';
import { loadConfig } from './config';
import * as complaints from './subgraph';

Promise.resolve()
  .then(() => serveSubgraph(complaints, loadConfig(process.env)))
  .then(
    (running) => {
      running.app.log.info(`complaints subgraph ready at ${running.url}`);
      closeOnSignals(() => running.close(), running.app.log);
    },
    (error: Error) => {
      console.error(error.name === 'ConfigError' ? error.message : error);
      process.exit(1);
    },
  );
