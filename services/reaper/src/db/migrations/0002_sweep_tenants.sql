CREATE TABLE "reaper"."sweep_tenants" (
	"sweep_id" integer NOT NULL,
	"tenant_id" text NOT NULL,
	"candidates" integer NOT NULL,
	"reaped" integer NOT NULL,
	"spared" integer NOT NULL,
	"errors" integer NOT NULL,
	CONSTRAINT "sweep_tenants_sweep_id_tenant_id_pk" PRIMARY KEY("sweep_id","tenant_id")
);
--> statement-breakpoint
ALTER TABLE "reaper"."sweep_tenants" ADD CONSTRAINT "sweep_tenants_sweep_id_sweeps_id_fk" FOREIGN KEY ("sweep_id") REFERENCES "reaper"."sweeps"("id") ON DELETE cascade ON UPDATE no action;