/** What a family's builder builds for: one [height, width, channels] image in, `classCount` class scores out. */
export interface ModelInput {
  shape: [number, number, number];
  classCount: number;
}
