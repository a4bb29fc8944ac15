// Decides what kind of model this is: from the user's override, the config, the ONNX metadata,
// and last from the shapes of the graph's inputs and outputs.

import type { TaskKind, TensorSpec } from '../../protocol/workerProtocol';
import type { ModelConfig, TabularMeta } from './hfConfig';

export interface TaskDecision {
  task: TaskKind;
  source: 'override' | 'config' | 'metadata' | 'graph';
}

const CLASSIFIER_ARCH = /For(Sequence|Text)Classification$/;
const CAUSAL_LM_ARCH = /(ForCausalLM|LMHeadModel)$/;

export function isTextModel(inputs: TensorSpec[]): boolean {
  return inputs.some((i) => i.name === 'input_ids');
}

/** The output that carries the prediction: `logits` when there is one, else the first tensor output. */
export function primaryOutput(outputs: TensorSpec[]): TensorSpec | undefined {
  return outputs.find((o) => o.name === 'logits') ?? outputs.find((o) => !o.name.startsWith('present'));
}

export function detectTask(
  override: TaskKind | undefined,
  inputs: TensorSpec[],
  outputs: TensorSpec[],
  config: ModelConfig,
  tabular: TabularMeta,
): TaskDecision {
  if (override) return { task: override, source: 'override' };
  if (isTextModel(inputs)) {
    if (config.architectures.some((a) => CLASSIFIER_ARCH.test(a))) return { task: 'text-classifier', source: 'config' };
    if (config.architectures.some((a) => CAUSAL_LM_ARCH.test(a))) return { task: 'causal-lm', source: 'config' };
    const out = primaryOutput(outputs);
    const rank = out?.shape.length ?? 0;
    const last = out?.shape[rank - 1];
    if (rank === 3 && (config.vocabSize === null || last === config.vocabSize || typeof last === 'string')) return { task: 'causal-lm', source: 'graph' };
    return { task: 'text-classifier', source: 'graph' };
  }
  if (tabular.task) return { task: tabular.task, source: 'metadata' };
  if (tabular.labels && tabular.labels.length > 0) return { task: 'tabular-classifier', source: 'metadata' };
  const hasLabelOutput = outputs.some((o) => o.type.startsWith('int') || o.type === 'string');
  const widths = outputs.filter((o) => o.type.startsWith('float')).map((o) => o.shape[o.shape.length - 1]);
  const multiColumn = widths.some((w) => typeof w === 'number' && w > 1);
  return { task: hasLabelOutput || multiColumn ? 'tabular-classifier' : 'tabular-regressor', source: 'graph' };
}
