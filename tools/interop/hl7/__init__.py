"""HL7 v2 lab results: ORU^R01 messages read into dataclasses (`reading`, `records`,
`values`), their ACKs (`ack`) and the MLLP framing they travel in (`mllp`). No database."""
