import { describe, expect, it } from "vitest";
import { volumeSpecOf } from "./volume-spec.ts";

const names = { size: "Size", type: "VolumeType", iops: "Iops", throughput: "Throughput" };
const spec = (asked: Parameters<typeof volumeSpecOf>[0]) => volumeSpecOf(asked, { type: "gp2" }, names);

describe("volumeSpecOf", () => {
  it("fills in what EBS fills in: gp2 by default with 3 IOPS a GiB, gp3 with 3000 IOPS and 125 MiB/s", () => {
    expect(spec({ size: 10 })).toEqual({
      size_gib: 10,
      volume_type: "gp2",
      iops: 100,
      throughput: null,
      encrypted: false,
    });
    expect(spec({ size: 1000 }).iops).toBe(3000);
    expect(spec({ size: 8000 }).iops).toBe(16_000);
    expect(spec({ size: 8, type: "gp3", encrypted: true })).toEqual({
      size_gib: 8,
      volume_type: "gp3",
      iops: 3000,
      throughput: 125,
      encrypted: true,
    });
    expect(spec({ size: 100, type: "io1", iops: 5000 })).toMatchObject({ iops: 5000, throughput: null });
    expect(spec({ size: 500, type: "st1" })).toMatchObject({ iops: null, throughput: null });
  });

  it("takes the root device's defaults where a mapping leaves them out", () => {
    expect(volumeSpecOf({}, { type: "gp3", size: 8 }, names)).toMatchObject({
      size_gib: 8,
      volume_type: "gp3",
    });
  });

  it.each([
    [{}, "MissingParameter", /Size/],
    [{ size: 0 }, "InvalidParameterValue", /outside the range of 1GiB to 16384GiB/],
    [{ size: 16_385, type: "gp3" }, "InvalidParameterValue", /16384GiB/],
    [{ size: 100, type: "st1" }, "InvalidParameterValue", /125GiB/],
    [{ size: 2000, type: "standard" }, "InvalidParameterValue", /1024GiB/],
    [{ size: 10, type: "gp9" }, "InvalidParameterValue", /gp2, gp3/],
    [{ size: 10, iops: 300 }, "InvalidParameterCombination", /iops is not supported for gp2/],
    [{ size: 10, type: "io1" }, "MissingParameter", /Iops/],
    [{ size: 10, type: "io1", iops: 1000 }, "InvalidParameterValue", /50 IOPS per GiB/],
    [{ size: 10, type: "gp3", iops: 2000 }, "InvalidParameterValue", /3000 to 16000/],
    [
      { size: 10, type: "gp2", throughput: 200 },
      "InvalidParameterCombination",
      /throughput is not supported/,
    ],
    [{ size: 10, type: "gp3", throughput: 1001 }, "InvalidParameterValue", /125 to 1000/],
    [{ size: 100, type: "gp3", throughput: 1000 }, "InvalidParameterValue", /IOPS \/ 4/],
  ] as const)("refuses %o with %s", (asked, code, message) => {
    expect(() => spec(asked)).toThrow(
      expect.objectContaining({ code, message: expect.stringMatching(message) }),
    );
  });
});
