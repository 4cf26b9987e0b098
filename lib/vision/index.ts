/**
 * Vision models: image bodies into input tensors (sharp), detector output into labelled boxes.
 *
 * @example
 * import { imageToTensor, postprocessDetections } from 'millwright';
 *
 * @packageDocumentation
 */
export { imageToTensor, imageLayout, checkImageConfig, DEFAULT_MAX_PIXELS, type ImageLayout } from './image-input.ts';
export { postprocessDetections, iou, checkDetectionConfig, type Detection } from './detection.ts';
