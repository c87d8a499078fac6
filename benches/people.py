"""N distinct people for a batch benchmark: valid ID numbers (born from 1960 on, a thousand a
day), the sandbox population's names and mobiles. Each row is a new subject.

Usage: python3 benches/people.py N OUT.csv PEOPLE.csv   (PEOPLE.csv: `juhe sandbox identities`)
"""
import csv
import datetime
import sys

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECKS = "10X98765432"


def main():
    n, out, people_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    people = list(csv.DictReader(open(people_file, encoding="utf-8")))
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "idcard", "mobile"])
        for i in range(n):
            born = datetime.date(1960, 1, 1) + datetime.timedelta(days=i // 1000)
            first17 = f"110105{born:%Y%m%d}{i % 1000:03d}"
            p = people[i % len(people)]
            check = CHECKS[sum(int(d) * k for d, k in zip(first17, WEIGHTS)) % 11]
            w.writerow([p["name"], first17 + check, p["mobile"]])


if __name__ == "__main__":
    main()
