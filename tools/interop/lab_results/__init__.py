"""Lab results from laboratories, whatever format they came in (HL7 v2 ORU^R01, a lab's CSV
export): the neutral shape both readers produce (`incoming`), an order matched or made
(`orders`), its results written with their provenance (`storing`), and where new results go
next: the ordering clinician's review task, the overdue-lab chase closed, a correction told
to the care team (`routing`)."""
