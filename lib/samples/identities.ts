// The two built-in people: one real face each from the group photos bundled with face-api, with
// their 68 landmarks as face-api's SSD + landmark net read them: the mean over 24 rotated, scaled
// and shifted copies of the photo, mapped back (bench/samples-pick.ts; one detection alone is off
// by 2.6-3.5% of the eye distance from view to view). Stored here so that rendering needs no
// neural net and is the same on every backend.
//
// Why these two, out of the 22 faces in sample1-6.jpg (3, 3, 3, 4, 5 and 4 people): both are
// near-frontal (roll about 1 and 14 degrees, small yaw), sharp, large (eye distance 93 and 100
// px), with the mouth closed (the rig opens it; an open mouth in the source would have to be
// closed, which a warp cannot do well), and clearly two different people: A is blonde with curly
// hair under warm bar light, B has long straight brown hair in daylight. The other candidates
// were turned further (sample5 face 2, sample6 face 2 from the left), partly hidden (sample4
// face 4), had an open mouth (sample1 face 3), pursed lips (sample6 face 3) or a lower score.

import * as path from 'path';
import { PROJECT_ROOT } from '../util/project';
import type { Point } from '../faces/types';

export type PersonId = 'a' | 'b';

export interface Identity {
  id: PersonId;
  /** Photo file, relative to the project root. */
  photo: string;
  /** Which face in the photo, counted from the left, starting at 1. */
  faceFromLeft: number;
  facesInPhoto: number;
  /** The 68 landmarks (iBUG order) in photo pixels. */
  landmarks: readonly Point[];
  /** The output frame's centre, as a shift of the eye midpoint in eye distances (right, down). */
  frameOffset: Point;
  description: string;
}

const DEMO = 'node_modules/@vladmandic/face-api/demo';

export const LICENCE_NOTE =
  'Photo by Vladimir Mandic ("Photos shown below are taken by me", face-api README), shipped in the MIT-licensed ' +
  'npm package @vladmandic/face-api 1.7.15 as a demo input. Rendered by deepfake-lab for learning; do not ' +
  'redistribute as a likeness of a real person.';

export const IDENTITIES: Record<PersonId, Identity> = {
  a: {
    id: 'a',
    photo: `${DEMO}/sample3.jpg`,
    faceFromLeft: 1,
    facesInPhoto: 3,
    frameOffset: [0, 0.85],
    description: 'curly blonde hair, warm indoor light, near-frontal, mouth closed',
    // prettier-ignore
    landmarks: [[587.2,435.1],[588.2,462.6],[592.8,488.8],[598.9,511.4],[606.9,536.9],[618.4,557],[631.7,570.9],[648,585.1],[676.9,594.7],[708.2,587.7],[732.9,575.8],[752.6,562.1],[769.6,541.4],[780.7,516.1],[786.1,491.8],[791.7,465.2],[794.2,436.4],[594.6,405.3],[603.5,396.1],[616.4,394.5],[629.8,397.4],[642.2,403],[694.8,404.2],[708.8,399.4],[725.5,396.8],[744,399.6],[758.9,409.7],[667.2,435],[664.3,453.6],[661,471],[659.7,487.2],[651.2,497.9],[656.8,501.3],[665.2,503.1],[675.4,500.8],[683.7,499.2],[612.5,428.7],[619.4,425.1],[632.7,425.5],[645.8,433.1],[634.1,437],[620.5,435.6],[700.2,434.2],[712.1,426.7],[725.9,427],[737.3,433.5],[725.9,439],[711.5,437.8],[639.3,534],[646.5,527.4],[658,522.8],[666.1,524.3],[673.6,522.1],[691.7,528.7],[708.4,535.5],[693.7,546],[681.3,551.7],[668.7,553.1],[658.5,551.5],[648.1,546],[641.4,534.2],[657.5,532.2],[667.2,532],[678.3,532.6],[704.9,535.4],[679.9,538.6],[669.1,539.9],[659.2,538.9]],
  },
  b: {
    id: 'b',
    photo: `${DEMO}/sample6.jpg`,
    faceFromLeft: 4,
    facesInPhoto: 4,
    // A little to the right: the friend on her left would otherwise show half a face at the edge.
    frameOffset: [0.95, 0.85],
    description: 'long straight brown hair, daylight, near-frontal, closed-mouth smile',
    // prettier-ignore
    landmarks: [[1482.9,348.2],[1478.7,378.5],[1477.3,406.8],[1477.6,430.2],[1479.6,457.9],[1487.3,482.9],[1498.3,503.4],[1513.5,527.1],[1543.3,545.5],[1578.3,542.8],[1605.6,530.1],[1627.7,516.9],[1648.7,496.5],[1665.2,472.6],[1677.3,449.4],[1689.5,423.8],[1698.5,394.4],[1501,334.1],[1514.4,329.7],[1529.1,333.4],[1543,340.2],[1554.8,349.2],[1611.7,361.4],[1626.7,358.8],[1644.1,358.2],[1662.1,362.8],[1674.1,373.3],[1574.6,391.6],[1567.9,415.3],[1561.4,437.2],[1556.4,454.9],[1542,453.7],[1547.5,460.1],[1556.7,465.2],[1568,464.4],[1577,463.1],[1515.3,363.6],[1524.8,363],[1538.6,366.4],[1549.9,377.9],[1537.4,379.3],[1523,374],[1607.4,391.4],[1622.2,386.2],[1637,389.4],[1646.4,396.3],[1634,401.7],[1619,397.8],[1516.7,473.5],[1528.9,476.4],[1544.5,479.2],[1552.9,483.2],[1561.9,482.9],[1579.8,490.5],[1595.9,494],[1576.4,504.4],[1561.8,508.7],[1547.4,507.5],[1536,502.6],[1524.9,492.4],[1518.5,474.8],[1539.8,485.2],[1552,489],[1564.3,491.7],[1592.3,493.5],[1563.4,495.7],[1550.9,494.6],[1539.6,490.4]],
  },
};

export const photoPath = (identity: Identity): string => path.join(PROJECT_ROOT, identity.photo);
