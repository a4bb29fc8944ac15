// Every command id in one place; package.json contributes the same ids (internal ones start with '_').

export const Commands = {
  predict: 'loupe.predict',
  selectModel: 'loupe.selectModel',
  restartEngine: 'loupe.restartEngine',
  clearCache: 'loupe.clearCache',
  /** Internal, for the integration tests: clears the model cache without asking; returns what it held. Not in package.json. */
  clearCacheNow: 'loupe._clearCacheNow',
  showLog: 'loupe.showLog',
  showAttention: 'loupe.showAttention',
  /** Internal, for the integration tests: the attention view's state and a digest of its canvas. Not in package.json. */
  attentionViewState: 'loupe._attentionViewState',
  explain: 'loupe.explain',
  toggleInlineAttributions: 'loupe.toggleInlineAttributions',
  /** Internal, for the integration tests: the explanation view's state and the inline decorations set. Not in package.json. */
  explainViewState: 'loupe._explainViewState',
  explainPrompt: 'loupe.explainPrompt',
  explainSelection: 'loupe.explainSelection',
  compareMethods: 'loupe.compareMethods',
  exportResult: 'loupe.exportResult',
  openDashboard: 'loupe.openDashboard',
  /** The walkthrough's "Create a prompt" link: an untitled editor with an example. Not in package.json's commands. */
  walkthroughPrompt: 'loupe._walkthroughPrompt',
  /** Internal, for the integration tests: the dashboard's state and what its webview drew; can pick a model. Not in package.json. */
  dashboardState: 'loupe._dashboardState',
  /** Internal, for the integration tests: exports a result panel to a path without the dialog (never replaces a file). Not in package.json. */
  exportResultTo: 'loupe._exportResultTo',
  featureImportance: 'loupe.featureImportance',
  /** Internal, for the integration tests: the importance view's state, and an export to a given file. Not in package.json. */
  importanceViewState: 'loupe._importanceViewState',
  importanceExport: 'loupe._importanceExport',
} as const;
