ALTER TABLE "ipam"."addresses" DROP CONSTRAINT "addresses_region_pools_region_fk";
