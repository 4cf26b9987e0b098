/**
 * Export of a forest to ONNX (ai.onnx.ml TreeEnsembleRegressor / TreeEnsembleClassifier) so it runs
 * in onnxruntime (node, python, C++) without millwright. Thresholds are the forest's float32 edges
 * and the rule is BRANCH_LEQ, i.e. the exact test the JS predictor makes.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { MillwrightError } from '../../errors/index.ts';
import type { Forest } from './forest.ts';

const { onnx } = onnxProto;
type IAttr = OnnxTypes.IAttributeProto;
const AT = onnx.AttributeProto.AttributeType;

export interface OnnxExportOptions {
  /** Feature names, recorded in the model's metadata (`feature_names`, comma-joined JSON). */
  featureNames: readonly string[];
  /** Classification: class labels (strings), in class-index order. */
  classes?: readonly string[];
  /** Regression: names of the outputs (default `['prediction']`), recorded in metadata. */
  outputNames?: readonly string[];
  /** Written to the graph's doc string. */
  description?: string;
}

const enc = new TextEncoder();
const ints = (name: string, v: ArrayLike<number>): IAttr => ({ name, type: AT.INTS, ints: Array.from(v) });
const floats = (name: string, v: ArrayLike<number>): IAttr => ({ name, type: AT.FLOATS, floats: Array.from(v) });
const strs = (name: string, v: readonly string[]): IAttr => ({ name, type: AT.STRINGS, strings: v.map((s) => enc.encode(s)) });
const str = (name: string, v: string): IAttr => ({ name, type: AT.STRING, s: enc.encode(v) });
const int = (name: string, v: number): IAttr => ({ name, type: AT.INT, i: v });

function tensorType(elemType: number, dims: (number | string)[]): OnnxTypes.ITypeProto {
  return {
    tensorType: {
      elemType,
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
    },
  };
}

/** Flattens every tree into the parallel node and leaf-weight arrays the ONNX tree-ensemble ops take. */
function flattenForest(forest: Forest) {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const values: number[] = [];
  const modes: string[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const tTree: number[] = [];
  const tNode: number[] = [];
  const tId: number[] = [];
  const tWeight: number[] = [];
  const K = forest.nOutputs;
  const T = forest.trees.length;
  forest.trees.forEach((t, ti) => {
    const m = t.feature.length;
    for (let i = 0; i < m; i++) {
      treeIds.push(ti);
      nodeIds.push(i);
      const leaf = t.left[i]! < 0;
      featureIds.push(leaf ? 0 : t.feature[i]!);
      values.push(leaf ? 0 : t.threshold[i]!);
      modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      trueIds.push(leaf ? 0 : t.left[i]!);
      falseIds.push(leaf ? 0 : t.right[i]!);
      if (leaf) {
        for (let k = 0; k < K; k++) {
          const w = t.value[i * K + k]!;
          if (forest.kind === 'classification') {
            // Binary: onnxruntime's "binary case" wants ONE score column (class id 0) holding p(class 1):
            // it then gives label = p1 > 0.5 and probabilities [1 - p1, p1]. With weights for both classes
            // it would label any p1 > 0 as class 1, and with id 1 only it leaves p(class 0) at 0.
            if (K === 2 && k === 0) continue;
            // zero weights are left out to keep the file small (multiclass scores default to 0)
            if (K > 2 && w === 0) continue;
          }
          tTree.push(ti);
          tNode.push(i);
          tId.push(forest.kind === 'classification' && K === 2 ? 0 : k);
          // classifier sums over trees (no aggregate_function): pre-divide by the tree count
          tWeight.push(forest.kind === 'classification' ? w / T : w);
        }
      }
    }
  });
  return { treeIds, nodeIds, featureIds, values, modes, trueIds, falseIds, tTree, tNode, tId, tWeight };
}

/**
 * Serialises a forest as an ONNX model (bytes). Input `input`: float32 [N, nFeatures] in
 * `featureNames` order. Regression output `variable`: float32 [N, nOutputs] (tree average).
 * Classification outputs `label` (string [N]) and `probabilities` (float32 [N, classes]).
 *
 * @example
 * await writeFile('model.onnx', forestToOnnx(forest, { featureNames: ['a', 'b'] }));
 */
export function forestToOnnx(forest: Forest, options: OnnxExportOptions): Uint8Array {
  if (options.featureNames.length !== forest.nFeatures) {
    throw new MillwrightError(
      'BAD_INPUT',
      `onnx export: ${options.featureNames.length} feature names for a forest of ${forest.nFeatures} features`,
    );
  }
  const { treeIds, nodeIds, featureIds, values, modes, trueIds, falseIds, tTree, tNode, tId, tWeight } =
    flattenForest(forest);
  const K = forest.nOutputs;
  const common: IAttr[] = [
    ints('nodes_treeids', treeIds),
    ints('nodes_nodeids', nodeIds),
    ints('nodes_featureids', featureIds),
    floats('nodes_values', values),
    strs('nodes_modes', modes),
    ints('nodes_truenodeids', trueIds),
    ints('nodes_falsenodeids', falseIds),
    str('post_transform', 'NONE'),
  ];
  const input = { name: 'input', type: tensorType(onnx.TensorProto.DataType.FLOAT, ['N', forest.nFeatures]) };
  let node: OnnxTypes.INodeProto;
  let outputs: OnnxTypes.IValueInfoProto[];
  const metadata: Record<string, string> = { feature_names: JSON.stringify(options.featureNames) };
  if (forest.kind === 'regression') {
    node = {
      opType: 'TreeEnsembleRegressor',
      domain: 'ai.onnx.ml',
      name: 'forest',
      input: ['input'],
      output: ['variable'],
      attribute: [
        ...common,
        ints('target_treeids', tTree),
        ints('target_nodeids', tNode),
        ints('target_ids', tId),
        floats('target_weights', tWeight),
        int('n_targets', K),
        str('aggregate_function', 'AVERAGE'),
      ],
    };
    outputs = [{ name: 'variable', type: tensorType(onnx.TensorProto.DataType.FLOAT, ['N', K]) }];
    metadata.output_names = JSON.stringify(options.outputNames ?? (K === 1 ? ['prediction'] : []));
  } else {
    const classes = options.classes;
    if (classes === undefined || classes.length !== K) {
      throw new MillwrightError('BAD_INPUT', `onnx export: classification needs ${K} class labels`);
    }
    node = {
      opType: 'TreeEnsembleClassifier',
      domain: 'ai.onnx.ml',
      name: 'forest',
      input: ['input'],
      output: ['label', 'probabilities'],
      attribute: [
        ...common,
        ints('class_treeids', tTree),
        ints('class_nodeids', tNode),
        ints('class_ids', tId),
        floats('class_weights', tWeight),
        strs('classlabels_strings', [...classes]),
      ],
    };
    outputs = [
      { name: 'label', type: tensorType(onnx.TensorProto.DataType.STRING, ['N']) },
      { name: 'probabilities', type: tensorType(onnx.TensorProto.DataType.FLOAT, ['N', K]) },
    ];
    metadata.classes = JSON.stringify(classes);
  }
  return encodeModel(node, input, outputs, metadata, options.description ?? '');
}

/** Wraps the one tree-ensemble node in the model envelope (opsets, metadata, graph) and encodes it. */
function encodeModel(
  node: OnnxTypes.INodeProto,
  input: OnnxTypes.IValueInfoProto,
  outputs: OnnxTypes.IValueInfoProto[],
  metadata: Record<string, string>,
  description: string,
): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'millwright',
    producerVersion: '1',
    opsetImport: [
      { domain: '', version: 15 },
      { domain: 'ai.onnx.ml', version: 3 },
    ],
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'millwright_forest',
      docString: description,
      node: [node],
      input: [input],
      output: outputs,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
