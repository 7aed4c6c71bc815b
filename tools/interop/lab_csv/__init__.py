"""Lab results from a laboratory's CSV export: a mapping file per lab names its columns
(`mapping`), each row is read and checked against it (`reading`, problems naming row and
column, never the value), and each patient's rows are stored as HL7 results are
(`importing`: matched by identifier, else held for review; orders, results, provenance,
review tasks and corrections through tools.interop.lab_results)."""
