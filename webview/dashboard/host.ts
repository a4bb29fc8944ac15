// The dashboard webview's only way to talk to the host: typed messages from the shared protocol module.

import type { ViewToHost } from '../../src/protocol/dashboardViewProtocol';
import { acquireHost } from '../components/vscodeApi';

export const host = acquireHost<ViewToHost>();
