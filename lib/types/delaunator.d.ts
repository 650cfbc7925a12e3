// delaunator 4.0.1 ships no types (5.x has them but is ESM-only, which `require` cannot load on
// Node 20.6-20.18). Only what lib/samples uses is declared.
declare module 'delaunator' {
  class Delaunator {
    static from(points: ReadonlyArray<readonly [number, number]>): Delaunator;
    /** Triangle vertex indices, three per triangle, counter-clockwise in y-down coordinates. */
    readonly triangles: Uint32Array;
  }
  export = Delaunator;
}
