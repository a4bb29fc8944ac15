// The explanation webview's only way to talk to the host: typed messages from the shared protocol module.

import type { AttributionMethod, ExplainOrigin, ViewToHost } from '../../src/protocol/explainViewProtocol';

/** What the webview keeps across reloads (VS Code hands it to the panel serializer too). */
export interface SavedState {
  origin: ExplainOrigin;
  ui: { method: AttributionMethod | null; showSpecial: boolean };
}

interface VsCodeApi {
  postMessage(message: ViewToHost): void;
  getState(): unknown;
  setState(state: SavedState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export const host: VsCodeApi = acquireVsCodeApi();
