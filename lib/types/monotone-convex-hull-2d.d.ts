// The package ships no types. It returns the indices of the hull's points, counter-clockwise.
declare module 'monotone-convex-hull-2d' {
  function convexHull(points: ReadonlyArray<readonly [number, number]>): number[];
  export = convexHull;
}
