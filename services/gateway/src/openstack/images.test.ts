import { defaultImages } from "@cloudsim/shared";
import { describe, expect, it } from "vitest";
import { nameMatcher } from "./compute/server-query.ts";
import { findImage, imageUuidOf } from "./images.ts";

describe("image ids", () => {
  it("derive one UUID per AMI, the same every time, and either id finds the image", () => {
    const [first, second] = defaultImages;
    if (!first || !second) throw new Error("no images");
    const uuid = imageUuidOf(first.id);
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(imageUuidOf(first.id)).toBe(uuid);
    expect(imageUuidOf(second.id)).not.toBe(uuid);
    expect(findImage(defaultImages, uuid)).toBe(first);
    expect(findImage(defaultImages, uuid.toUpperCase())).toBe(first);
    expect(findImage(defaultImages, first.id)).toBe(first);
    expect(findImage(defaultImages, "cirros")).toBeUndefined();
  });
});

describe("the server name filter", () => {
  it("matches a substring, or anchored with ^ and $, without running the client's regex", () => {
    expect(nameMatcher("vm")("my-vm1")).toBe(true);
    expect(nameMatcher("^vm")("my-vm1")).toBe(false);
    expect(nameMatcher("^vm1$")("vm1")).toBe(true);
    expect(nameMatcher("^vm1$")("vm10")).toBe(false);
    expect(nameMatcher("1$")("vm1")).toBe(true);
    expect(nameMatcher("(a+)+b")("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")).toBe(false);
  });
});
