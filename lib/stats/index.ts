/** Order statistics shared by features, algorithms, model summaries and reports. */
export { quantileSorted } from './quantile.ts';
