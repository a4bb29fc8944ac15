// The importance webview's only way to talk to the host: typed messages from the shared protocol module.

import type { ImportanceOrigin, SortKey, ViewToHost } from '../../src/protocol/importanceViewProtocol';
import type { RowExplanation } from '../../src/protocol/workerProtocol';
import { acquireHost } from '../components/vscodeApi';

/** What the webview keeps across reloads (VS Code hands it to the panel serializer too). */
export interface SavedState {
  origin: ImportanceOrigin;
  ui: { sort: SortKey; descending: boolean };
  /** The last row explanation drawn, shown again after a reload while the model is the same. */
  row?: RowExplanation | null;
}

export const host = acquireHost<ViewToHost, SavedState>();
