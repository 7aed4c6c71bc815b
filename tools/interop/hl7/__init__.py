"""HL7 v2 lab results: ORU^R01 messages read into dataclasses (`reading`, `records`,
`values`, `header`, `fields`, `splitting`), their ACKs (`ack`), the MLLP framing they travel
in (`mllp`) and one frame answered (`exchange`). No database: matching PID to a patient,
OBR to a lab order and storing results is the next slice of issue 13."""
