-- A リスク受容 for a device as a whole (kept past its support end, EOS), with or without
-- findings: the device's 管理番号.
ALTER TABLE exceptions ADD COLUMN asset TEXT;
