// The webview's only way to talk to the host: typed messages from the shared protocol module.

import type { ViewToHost } from '../src/protocol/predictionViewProtocol';
import { acquireHost } from './components/vscodeApi';

export const host = acquireHost<ViewToHost>();
