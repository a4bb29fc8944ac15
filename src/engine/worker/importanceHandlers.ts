// The dataset methods of the worker protocol: describeDataset, planImportance, importance, explainRow.

import { LoupeError } from '../../protocol/errors';
import type { MethodName, ParamsOf, ResultOf } from '../../protocol/workerProtocol';
import type { CancelToken, ProgressFn } from '../cancellation';
import type { EngineState } from './handlers';

type DatasetMethod = 'describeDataset' | 'planImportance' | 'importance' | 'explainRow';
type Handler<M extends MethodName> = (params: ParamsOf<M>, state: EngineState, token: CancelToken, progress: ProgressFn) => Promise<ResultOf<M>>;

const notYet = (): never => {
  throw new LoupeError('UNSUPPORTED', 'Dataset importance is not built into this engine yet.');
};

export const importanceHandlers: { [M in DatasetMethod]: Handler<M> } = {
  describeDataset: async () => notYet(),
  planImportance: async () => notYet(),
  importance: async () => notYet(),
  explainRow: async () => notYet(),
};
