// Every command id in one place; package.json contributes the same ids.

export const Commands = {
  predict: 'loupe.predict',
  selectModel: 'loupe.selectModel',
  restartEngine: 'loupe.restartEngine',
  showLog: 'loupe.showLog',
} as const;
