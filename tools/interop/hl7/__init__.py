"""HL7 v2 lab results: ORU^R01 messages read into dataclasses (`reading`, `records`,
`values`, `header`, `fields`, `splitting`), their ACKs (`ack`), the MLLP framing they travel
in (`mllp`) and one frame answered (`exchange`); a read message turned into the neutral lab
shape (`converting`) and taken into the database (`importing`: PID matched or held for
review, orders and results through tools.interop.lab_results). The transaction per message
and the MLLP listener are the service's (schedules.lab_intake, schedules.mllp_listener)."""
