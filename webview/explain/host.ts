// The explanation webview's only way to talk to the host: typed messages from the shared protocol module.

import type { AttributionMethod, ExplainOrigin, ViewToHost } from '../../src/protocol/explainViewProtocol';
import { acquireHost } from '../components/vscodeApi';

/** What the webview keeps across reloads (VS Code hands it to the panel serializer too). */
export interface SavedState {
  origin: ExplainOrigin;
  ui: { method: AttributionMethod | null; showSpecial: boolean };
}

export const host = acquireHost<ViewToHost, SavedState>();
