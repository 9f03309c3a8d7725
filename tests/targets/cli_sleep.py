import time


def nap():
    time.sleep(0.2)


def count_words(text):
    return len(text.split())


if __name__ == "__main__":
    nap()
    count_words("a b c")
